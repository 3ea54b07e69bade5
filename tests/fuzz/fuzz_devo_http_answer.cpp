// Fuzz target: what the Devo HTTP sink reads from an answer it did not make: the Retry-After
// header (delta-seconds or an HTTP date), and the endpoint URL parser, over arbitrary bytes.
#include "ctsqs/sink/devo_http_sink_options.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::system_clock::from_time_t(1700000000);
  if (auto d = parse_retry_after(text, now)) {
    if (d->count() < 0) __builtin_trap();                       // never a negative delay
    if (*d > std::chrono::hours(24 * 366 * 10000)) __builtin_trap();  // bounded: years end at 9999
  }
  Diagnostics diag;
  if (auto t = parse_devo_http_endpoint(text, diag)) {
    if (t->scheme != "https" && t->scheme != "http") __builtin_trap();
    if (t->host.empty()) __builtin_trap();
    if (!t->base_path.empty() && t->base_path.back() == '/') __builtin_trap();
  } else if (diag.message.empty()) {
    __builtin_trap();  // a refusal always says why
  }
  (void)classify_devo_http_status(size > 0 ? data[0] * 3 : 0);
  return 0;
}
