// Shared by `ctsqs verify`, `ctsqs audit` and `ctsqs backfill`: the trail-range flags (--bucket,
// --prefix, --accounts, --regions, --since, --until), their parsing, and the --report file.
#pragma once

#include <CLI/CLI.hpp>

#include "ctsqs/backfill/backfill.hpp"

#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace ctsqs::cli {

/// The trail-range flags as given.
struct TrailRangeArgs {
  std::string bucket, prefix, since, until;
  std::vector<std::string> accounts, regions;
};

/// Adds --bucket (required), --prefix, --accounts, --regions (comma separated), --since
/// (required, help `since_help`) and --until (help `until_help`) to `sub`.
void add_trail_range_options(CLI::App& sub, TrailRangeArgs& args, const std::string& since_help,
                             const std::string& until_help);

/// The range the flags name (`until` left unset, the epoch, without --until: the library's
/// default); on a time it cannot read prints "<cmd>: <what>" on stderr and returns nothing.
std::optional<BackfillRange> parse_trail_range(const char* cmd, const TrailRangeArgs& args);

/// Sets bucket, prefix, accounts, regions, since and until of `out` (BackfillRange,
/// integrity::VerifyOptions) from the flags; false (the error printed) when a time is unreadable.
template <class RangeOptions>
bool apply_trail_range(const char* cmd, const TrailRangeArgs& args, RangeOptions& out) {
  auto range = parse_trail_range(cmd, args);
  if (!range) return false;
  out.bucket = std::move(range->bucket);
  out.prefix = std::move(range->prefix);
  out.accounts = std::move(range->accounts);
  out.regions = std::move(range->regions);
  out.since = range->since;
  out.until = range->until;
  return true;
}

/// --report: '-' is stdout, a path is opened into `file` (truncated), empty is none (nullptr).
/// On a file that cannot be written prints "<cmd>: --report <path>: cannot be written" and
/// returns nothing.
std::optional<std::ostream*> open_report(const char* cmd, const std::string& path, std::ofstream& file);

}  // namespace ctsqs::cli
