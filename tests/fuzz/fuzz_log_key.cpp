// Fuzz target: CloudTrail's key layout (parse_log_key, cloudtrail_key_account) over arbitrary keys,
// as ListObjectsV2 and notifications hand them over: what parses is a consistent split of the key.
#include "ctsqs/decode/log_key.hpp"
#include "ctsqs/collector/notification.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  const std::string key(reinterpret_cast<const char*>(data), size);
  const std::string account = cloudtrail_key_account(key);
  if (!account.empty() && (account.size() != 12 || key.find(account) == std::string::npos)) __builtin_trap();
  auto k = parse_log_key(key);
  if (!k) return 0;
  // The prefix, "AWSLogs/", [org/], account ... day prefix, file: the key itself.
  const std::string head = k->prefix + "AWSLogs/" + (k->org_id.empty() ? "" : k->org_id + "/") + k->account + "/" +
                           k->kind + "/" + k->region + "/";
  if (key.rfind(head, 0) != 0 || key.rfind(k->day_prefix, 0) != 0 || k->day_prefix.size() >= key.size())
    __builtin_trap();
  if (k->day_prefix.size() != head.size() + 11) __builtin_trap();
  if (account != k->account) __builtin_trap();
  if (k->month < 1 || k->month > 12 || k->day < 1 || k->day > 31) __builtin_trap();
  return 0;
}
