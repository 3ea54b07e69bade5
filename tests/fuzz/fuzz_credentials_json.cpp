// Fuzz target: the credentials JSON parsers — ECS container / EC2 instance metadata, and the
// output of a profile's credential_process.
#include "ctsqs/aws/credentials/chain.hpp"
#include "ctsqs/aws/credentials/process.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  Diagnostics diag;
  auto c = parse_credentials_json(body, "fuzz", diag);
  if (c && (c->access_key_id.empty() || c->secret_access_key.empty())) __builtin_trap();
  if (!c && diag.message.find("fuzz") != 0) __builtin_trap();
  Diagnostics pdiag;
  auto p = parse_process_credentials_json(body, "fuzz", pdiag);
  if (p && (p->access_key_id.empty() || p->secret_access_key.empty())) __builtin_trap();
  if (!p && pdiag.message.find("fuzz") != 0) __builtin_trap();
  return 0;
}
