// Output line formats: flat, raw and devo lines for one event.
#include "ctsqs/sink/format.hpp"

#include "detail/json_escape.hpp"

#include <array>
#include <charconv>
#include <ctime>

#include <unistd.h>

namespace ctsqs {

std::string local_host_name(std::string_view fallback) {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return std::string(fallback);
  return buf;
}

std::optional<OutputFormat> parse_output_format(std::string_view name) noexcept {
  if (name == "flat") return OutputFormat::flat;
  if (name == "raw") return OutputFormat::raw;
  if (name == "devo") return OutputFormat::devo;
  return std::nullopt;
}

std::string_view to_string(OutputFormat f) noexcept {
  switch (f) {
    case OutputFormat::flat: return "flat";
    case OutputFormat::raw: return "raw";
    case OutputFormat::devo: return "devo";
  }
  return "flat";
}

namespace {

void append_two(std::string& out, int v) {
  out.push_back(static_cast<char>('0' + (v / 10) % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

// "<PRI>Mmm dd HH:MM:SS " in UTC, computed from days since the epoch (no tz database, no locale).
void append_syslog_header(std::string& out, int priority, std::chrono::system_clock::time_point t) {
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{secs - day};
  char buf[16];
  out.push_back('<');
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, priority);
  (void)ec;
  out.append(buf, ptr);
  out.push_back('>');
  out.append(months[static_cast<unsigned>(ymd.month()) - 1], 3);
  out.push_back(' ');
  append_two(out, static_cast<int>(static_cast<unsigned>(ymd.day())));
  out.push_back(' ');
  append_two(out, static_cast<int>(hms.hours().count()));
  out.push_back(':');
  append_two(out, static_cast<int>(hms.minutes().count()));
  out.push_back(':');
  append_two(out, static_cast<int>(hms.seconds().count()));
  out.push_back(' ');
}

}  // namespace

void append_line(std::string& out, const Event& e, OutputFormat f, const LineOptions& o) {
  switch (f) {
    case OutputFormat::flat:
      out.append("{\"tag\":", 7);
      detail::append_json_string(out, e.tag);
      if (!e.columns.empty()) {
        out.push_back(',');
        out.append(e.columns);
      }
      out.append("}\n", 2);
      return;
    case OutputFormat::raw:
      out.append("{\"tag\":", 7);
      detail::append_json_string(out, e.tag);
      out.append(",\"event\":", 9);
      out.append(e.record.empty() ? std::string_view("{}") : std::string_view(e.record));
      out.append("}\n", 2);
      return;
    case OutputFormat::devo:
      append_syslog_header(out, o.priority, o.time);
      out.append(o.hostname.empty() ? std::string_view("localhost") : std::string_view(o.hostname));
      out.push_back(' ');
      out.append(e.tag);
      out.append(": ", 2);
      out.append(e.record);
      out.push_back('\n');
      return;
  }
}

}  // namespace ctsqs
