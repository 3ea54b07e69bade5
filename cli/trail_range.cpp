// The trail-range flags of verify, audit and backfill, their parsing, and the --report file.
#include "trail_range.hpp"

#include <iostream>

namespace ctsqs::cli {

void add_trail_range_options(CLI::App& sub, TrailRangeArgs& args, const std::string& since_help,
                             const std::string& until_help) {
  sub.add_option("--bucket", args.bucket, "The CloudTrail bucket")->required();
  sub.add_option("--prefix", args.prefix, "The trail's S3 key prefix (what precedes AWSLogs/)");
  sub.add_option("--accounts", args.accounts, "Only these accounts (comma separated; default: every account found)")
      ->delimiter(',');
  sub.add_option("--regions", args.regions, "Only these regions (comma separated; default: every region found)")
      ->delimiter(',');
  sub.add_option("--since", args.since, since_help)->required();
  sub.add_option("--until", args.until, until_help);
}

std::optional<BackfillRange> parse_trail_range(const char* cmd, const TrailRangeArgs& args) {
  Diagnostics diag;
  BackfillRange range;
  range.bucket = args.bucket;
  range.prefix = args.prefix;
  range.accounts = args.accounts;
  range.regions = args.regions;
  auto since = parse_backfill_time(args.since, "--since", diag);
  if (!since) {
    std::cerr << cmd << ": " << diag.message << "\n";
    return std::nullopt;
  }
  range.since = *since;
  if (!args.until.empty()) {
    auto until = parse_backfill_time(args.until, "--until", diag);
    if (!until) {
      std::cerr << cmd << ": " << diag.message << "\n";
      return std::nullopt;
    }
    range.until = *until;
  }
  return range;
}

std::optional<std::ostream*> open_report(const char* cmd, const std::string& path, std::ofstream& file) {
  if (path.empty()) return nullptr;
  if (path == "-") return &std::cout;
  file.open(path, std::ios::trunc);
  if (!file) {
    std::cerr << cmd << ": --report " << path << ": cannot be written\n";
    return std::nullopt;
  }
  return &file;
}

}  // namespace ctsqs::cli
