// Fuzz target: parse_notification over arbitrary SQS message bodies (must never crash; invariants hold).
#include "ctsqs/collector/notification.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ctsqs::Diagnostics diag;
  auto n = ctsqs::parse_notification(body, diag);
  if (!n) {
    // Every error explains itself and stays bounded however large the body.
    if (diag.message.empty() || diag.message.size() > 2048) __builtin_trap();
    return 0;
  }
  for (const auto& o : n->objects)
    if (o.bucket.empty() || o.key.empty()) __builtin_trap();
  if (n->is_test_event() && !n->empty()) __builtin_trap();
  return 0;
}
