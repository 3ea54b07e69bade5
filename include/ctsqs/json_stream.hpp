// JsonValueSplitter: splits a byte stream of JSON values — newline-delimited (NDJSON), or simply
// concatenated as Kinesis Data Firehose writes them (`}{`) — into whole top-level values, fed in
// chunks of any size, with memory bounded by the largest value. Groundwork for the services whose
// objects are streams of JSON values (GuardDuty exports, Firehose-delivered CloudTrail and
// GuardDuty). Values are not parsed here, only delimited: strings and escapes are tracked so
// braces inside strings do not count.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/detail/function_ref.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ctsqs {

/// Splits a stream of top-level JSON objects/arrays. Between values only JSON whitespace may
/// appear (a UTF-8 byte order mark is allowed at the very start). Errors
/// (client_errc::invalid_argument) name the byte offset and the value's index and say what was
/// wrong: a top-level scalar or stray byte, a closing bracket that does not match, a value longer
/// than `max_value_bytes`, nesting deeper than `max_depth`, or, at finish(), a value cut short.
class JsonValueSplitter {
 public:
  struct Options {
    std::size_t max_value_bytes = 64 * 1024 * 1024;  ///< a longer value is an error
    std::size_t max_depth = 512;                      ///< deeper nesting is an error
  };
  /// Called with each complete value (a view valid only during the call), its index and the
  /// stream offset of its first byte; an error stops the split and is returned by feed().
  using ValueHandler = detail::function_ref<result<void>(std::string_view value, std::uint64_t index,
                                                          std::uint64_t offset)>;

  JsonValueSplitter() : JsonValueSplitter(Options{}) {}
  explicit JsonValueSplitter(Options options) : options_(options) {}

  /// Feeds the next bytes; calls `on_value` for each value they complete.
  result<void> feed(std::string_view chunk, ValueHandler on_value, Diagnostics& diag);
  /// The stream ended: an unfinished value is an error.
  result<void> finish(Diagnostics& diag) const;

  std::uint64_t values() const noexcept { return index_; }
  std::uint64_t offset() const noexcept { return offset_; }

 private:
  Options options_;
  std::string value_;        // the value being collected
  std::string closers_;      // expected closing brackets, innermost last
  std::uint64_t offset_ = 0; // bytes consumed so far
  std::uint64_t start_ = 0;  // offset of the current value's first byte
  std::uint64_t index_ = 0;  // values completed
  bool in_string_ = false, escape_ = false;
  int bom_ = 0;              // bytes of a leading BOM matched so far (3 = done or none)
};

}  // namespace ctsqs
