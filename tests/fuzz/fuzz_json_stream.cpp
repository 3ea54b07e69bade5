// Fuzz target: JsonValueSplitter over arbitrary bytes, fed whole and in small chunks. Invariants:
// never throws; both feedings agree (same values, same offsets, same verdict); every value begins
// with '{' or '[' and ends with the matching bracket, lies in the input at its offset, and is no
// longer than the bound.
#include "ctsqs/json_stream.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Run {
  std::vector<std::pair<std::string, std::uint64_t>> values;
  bool ok = false;
};

Run run(std::string_view text, std::size_t step) {
  ctsqs::JsonValueSplitter::Options o;
  o.max_value_bytes = 4096;
  o.max_depth = 64;
  ctsqs::JsonValueSplitter s(o);
  ctsqs::Diagnostics diag;
  Run out;
  auto on_value = [&](std::string_view v, std::uint64_t, std::uint64_t offset) -> ctsqs::result<void> {
    out.values.emplace_back(std::string(v), offset);
    return {};
  };
  for (std::size_t i = 0; i < text.size(); i += step)
    if (!s.feed(text.substr(i, step), on_value, diag)) return out;
  out.ok = static_cast<bool>(s.finish(diag));
  if (!out.ok && diag.message.rfind("JSON stream: ", 0) != 0) __builtin_trap();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 7;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const Run whole = run(text, std::max<std::size_t>(1, text.size()));
  const Run chunked = run(text, step);
  if (whole.ok != chunked.ok || whole.values != chunked.values) __builtin_trap();
  for (const auto& [v, offset] : whole.values) {
    if (v.size() < 2 || v.size() > 4096) __builtin_trap();
    if (!((v.front() == '{' && v.back() == '}') || (v.front() == '[' && v.back() == ']'))) __builtin_trap();
    if (text.substr(offset, v.size()) != v) __builtin_trap();
  }
  return 0;
}
