// The records of an integrity check (`ctsqs verify --report`, drain integrity events): one JSON
// object per line, in the shapes the issue fixed, plus the counts of a summary.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ctsqs::integrity {

/// What became of a digest or log file.
enum class FileStatus { valid, invalid, missing };

/// "valid", "invalid", "missing".
const char* to_string(FileStatus s) noexcept;

/// One record of a report.
///   digest:   {"type":"digest","uri":"s3://b/k","status":"valid|invalid|missing","reason":"..."}
///   log:      {"type":"log","uri":"s3://b/k","status":"...","reason":"...","digest":"s3://b/k"}
///   gap:      {"type":"gap","account":"...","region":"...","from":"ISO","to":"ISO"}
///   unlisted: {"type":"unlisted","uri":"s3://b/k"}
struct ReportRecord {
  enum class Type { digest, log, gap, unlisted };
  Type type = Type::digest;
  std::string uri;                 ///< digest, log, unlisted
  FileStatus status = FileStatus::valid;  ///< digest, log
  std::string reason;              ///< digest, log ("" when valid)
  std::string digest;              ///< log: the digest that lists it
  std::string account, region;     ///< gap (also set on unlisted, as extra fields)
  std::chrono::system_clock::time_point from{}, to{};  ///< gap
};

/// The record as one line of JSON (no trailing newline).
std::string to_json_line(const ReportRecord& record);

/// "2026-11-01T05:00:00Z".
std::string format_iso_seconds(std::chrono::system_clock::time_point t);

/// Counts of a check, as validate-logs prints them (digests and log files valid / invalid,
/// where invalid includes missing), plus what validate-logs does not see.
struct ReportCounts {
  std::uint64_t digests_valid = 0, digests_invalid = 0, digests_missing = 0;
  std::uint64_t logs_valid = 0, logs_invalid = 0, logs_missing = 0;
  std::uint64_t gaps = 0, unlisted = 0;
  /// The time the valid digests cover, clamped to the range (validate-logs' "Results found for").
  std::chrono::system_clock::time_point found_from{}, found_to{};
  bool found = false;

  /// Adds one record.
  void add(const ReportRecord& r);
  /// Nothing invalid, missing or unlisted (gaps alone are not failures).
  bool clean() const noexcept {
    return digests_invalid == 0 && digests_missing == 0 && logs_invalid == 0 && logs_missing == 0 && unlisted == 0;
  }
};

}  // namespace ctsqs::integrity
