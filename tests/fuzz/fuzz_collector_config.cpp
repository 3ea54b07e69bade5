// Fuzz target: the collector file parser, validation and describe() on arbitrary bytes.
#include "ctsqs/collector/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ctsqs::Diagnostics diag;
  ctsqs::ConfigParseOptions opts;
  opts.validate = false;  // reach validation_issues() and describe() even for invalid configs
  auto c = ctsqs::parse_collector_config(text, "fuzz.json", diag, opts);
  if (c) {
    (void)ctsqs::validation_issues(*c);
    (void)ctsqs::validate(*c, diag);
    (void)ctsqs::describe(*c);
  } else if (diag.message.empty()) {
    __builtin_trap();  // every failure must say why
  }
  return 0;
}
