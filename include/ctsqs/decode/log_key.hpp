// CloudTrail's S3 key layout: which account, kind, region and day a log key belongs to.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs {

using SysTime = std::chrono::system_clock::time_point;

/// A key of CloudTrail's layout:
/// `[prefix/]AWSLogs/[o-<org-id>/]<account>/<kind>/<region>/YYYY/MM/DD/<file>`, where kind is
/// CloudTrail, CloudTrail-Insight, CloudTrail-Digest (or GuardDuty for its exports) and the file
/// name of a log carries its time: `<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`.
struct LogKey {
  std::string prefix;   ///< what precedes "AWSLogs/" ("" or ending in '/')
  std::string org_id;   ///< "o-..." for organization trails, else ""
  std::string account;  ///< 12 digits
  std::string kind;     ///< "CloudTrail", "CloudTrail-Insight", "CloudTrail-Digest", "GuardDuty"
  std::string region;
  int year = 0, month = 0, day = 0;
  std::optional<SysTime> file_time;  ///< from the file name, when it has one
  std::string day_prefix;            ///< the key up to and including "DD/"
};

/// Reads `key` as a CloudTrail (or GuardDuty) log key; nullopt when it does not follow the layout.
/// The key is read from its end, so a trail prefix may itself hold an `AWSLogs/` segment.
/// Pure; defined in lib/backfill_state.cpp.
std::optional<LogKey> parse_log_key(std::string_view key);

}  // namespace ctsqs
