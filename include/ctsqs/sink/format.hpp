// Output line formats: flat (tag + flattened columns), raw (tag + record), devo (syslog line).
#pragma once

#include "ctsqs/event.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs {

/// How an event is written as one line of text.
enum class OutputFormat {
  flat,  ///< `{"tag":"<tag>",<flattened columns>}` (the default)
  raw,   ///< `{"tag":"<tag>","event":<record as parsed, compact>}`
  devo,  ///< `<PRI>Mmm dd HH:MM:SS HOSTNAME TAG: <record>`: the line Devo's own sender writes
};

/// "flat" / "raw" / "devo" → the format; anything else → nullopt.
std::optional<OutputFormat> parse_output_format(std::string_view name) noexcept;

/// The name `parse_output_format` accepts for `f`.
std::string_view to_string(OutputFormat f) noexcept;

/// Whether lines of format `f` need `Event::record` (raw, devo).
constexpr bool needs_record(OutputFormat f) noexcept { return f != OutputFormat::flat; }
/// Whether lines of format `f` need `Event::columns` (flat).
constexpr bool needs_columns(OutputFormat f) noexcept { return f == OutputFormat::flat; }

/// This machine's name as gethostname() gives it, or `fallback` when it gives none.
std::string local_host_name(std::string_view fallback = "localhost");

/// Values the devo line takes from outside the event. Ignored by flat and raw.
struct LineOptions {
  std::string hostname;  ///< syslog HOSTNAME; must not contain spaces (callers pass local_host_name())
  int priority = 14;     ///< syslog PRI: facility * 8 + severity (14 = user.info)
  std::chrono::system_clock::time_point time;  ///< syslog timestamp, formatted in UTC
};

/// Appends one line for `e` in format `f` to `out`, with a trailing `\n`.
///
/// Pure: no clock or environment is read (the devo time comes from `o.time`). The tag is JSON
/// escaped in flat/raw; the record and columns are inserted as they are (the decoder produced
/// them as valid compact JSON). A flat event with empty columns gives `{"tag":"..."}`.
/// The devo timestamp is `Mmm dd HH:MM:SS` with a zero-padded day, as Devo's sender writes it.
void append_line(std::string& out, const Event& e, OutputFormat f, const LineOptions& o);

}  // namespace ctsqs
