// Fuzz target: the shared AWS config/credentials file parser and profile planning over
// arbitrary files. Checks: no crash, errors carry a message, no secret in any message.
#include "ctsqs/aws/credentials/profile_file.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {
// Stands in for every secret after parsing, so a message that contains it can only have
// copied the secret (a secret given in the input may also equal a profile name or another
// value that messages legitimately quote).
constexpr std::string_view canary = "ctsqs-fuzz-canary-secret-0c9f1e";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // First byte selects the file kind; the rest is the file.
  const bool is_config = size > 0 && (data[0] & 1);
  if (size > 0) text.remove_prefix(1);
  SharedConfig cfg;
  Diagnostics diag;
  auto parsed = parse_shared_config_file(text, is_config, "fuzz", cfg, diag);
  if (!parsed && diag.message.empty()) __builtin_trap();
  const bool check_secret = text.find(canary) == std::string_view::npos;
  for (auto& [name, settings] : cfg.profiles)
    if (auto it = settings.find("aws_secret_access_key"); it != settings.end() && !it->second.empty())
      it->second = canary;
  for (const auto& [name, settings] : cfg.profiles) {
    Diagnostics d;
    auto plan = plan_profile(cfg, name, d);
    if (!plan && d.message.empty()) __builtin_trap();
    if (plan && plan->source == ProfileSource::static_keys &&
        (plan->static_keys.access_key_id.empty() || plan->static_keys.secret_access_key.empty()))
      __builtin_trap();
    if (check_secret && d.message.find(canary) != std::string::npos) __builtin_trap();
  }
  return 0;
}
