// Integrity report records as JSON lines, and their counts.
#include "ctsqs/integrity/report.hpp"

#include "../detail/json_escape.hpp"

#include <cstdio>

namespace ctsqs::integrity {

using namespace std::chrono;

const char* to_string(FileStatus s) noexcept {
  switch (s) {
    case FileStatus::valid: return "valid";
    case FileStatus::invalid: return "invalid";
    case FileStatus::missing: return "missing";
  }
  return "invalid";
}

std::string format_iso_seconds(system_clock::time_point t) {
  const auto d = floor<days>(t);
  const year_month_day ymd{d};
  const hh_mm_ss hms{floor<seconds>(t - d)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

namespace {
void field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":\"";
  detail::append_json_escaped(out, value);
  out += '"';
}
}  // namespace

std::string to_json_line(const ReportRecord& r) {
  std::string out = "{\"type\":\"";
  switch (r.type) {
    case ReportRecord::Type::digest: out += "digest\""; break;
    case ReportRecord::Type::log: out += "log\""; break;
    case ReportRecord::Type::gap: out += "gap\""; break;
    case ReportRecord::Type::unlisted: out += "unlisted\""; break;
  }
  switch (r.type) {
    case ReportRecord::Type::digest:
    case ReportRecord::Type::log:
      field(out, "uri", r.uri);
      field(out, "status", to_string(r.status));
      field(out, "reason", r.reason);
      if (r.type == ReportRecord::Type::log) field(out, "digest", r.digest);
      break;
    case ReportRecord::Type::gap:
      field(out, "account", r.account);
      field(out, "region", r.region);
      field(out, "from", format_iso_seconds(r.from));
      field(out, "to", format_iso_seconds(r.to));
      break;
    case ReportRecord::Type::unlisted:
      field(out, "uri", r.uri);
      if (!r.account.empty()) field(out, "account", r.account);
      if (!r.region.empty()) field(out, "region", r.region);
      break;
  }
  out += '}';
  return out;
}

void ReportCounts::add(const ReportRecord& r) {
  switch (r.type) {
    case ReportRecord::Type::digest:
      (r.status == FileStatus::valid ? digests_valid : r.status == FileStatus::missing ? digests_missing : digests_invalid)++;
      break;
    case ReportRecord::Type::log:
      (r.status == FileStatus::valid ? logs_valid : r.status == FileStatus::missing ? logs_missing : logs_invalid)++;
      break;
    case ReportRecord::Type::gap: ++gaps; break;
    case ReportRecord::Type::unlisted: ++unlisted; break;
  }
}

}  // namespace ctsqs::integrity
