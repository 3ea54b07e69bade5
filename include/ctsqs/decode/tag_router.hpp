// TagRouter: turns an Event's routing fields into its tag and applies the service filter.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// Bounds on the tags made from event fields, shared by the TagRouters of a collector: a forged
/// event with a 300-character `eventSource` must not make a file name too long, and thousands of
/// made-up services must not grow files and counters without bound. What exceeds them is routed
/// as service `unknown` (counted; the first of each kind is logged). Thread-safe.
class TagLimits {
 public:
  /// `max_value_length`: longest substituted value (service, account, region) kept;
  /// `max_tags`: distinct tags admitted (the `unknown` fallback always is).
  static constexpr std::size_t default_max_value_length = 64;
  static constexpr std::size_t default_max_tags = 256;
  explicit TagLimits(std::size_t max_value_length = default_max_value_length,
                     std::size_t max_tags = default_max_tags);

  /// The limits a TagRouter uses when given none (`ctsqs decode`, a router of one's own). A
  /// collector has its own set (build_collector), so collectors in one process do not share
  /// their distinct tags or their bound.
  static const std::shared_ptr<TagLimits>& process_wide();

  std::size_t max_value_length() const noexcept { return max_value_length_; }
  std::size_t max_tags() const noexcept { return max_tags_.load(); }
  /// Changes the distinct-tag bound (configuration at start, before events flow).
  void set_max_tags(std::size_t n) noexcept { max_tags_.store(n); }

  /// True when `tag` was admitted before or there is room for one more distinct tag.
  bool admit(std::string_view tag);
  /// Counts an event routed to `unknown` because `what` (a value too long, a tag over the
  /// bound) exceeded a limit; logs the first of each kind through `log`.
  void capped(bool too_many, std::string_view what);
  /// Cappings so far (an event counts twice when a value was too long and its tag over the bound).
  std::uint64_t capped_events() const noexcept { return capped_.load(); }

  /// Where the first capping of each kind is logged; default: stderr.
  std::function<void(std::string_view line)> log;

 private:
  std::size_t max_value_length_;
  std::atomic<std::size_t> max_tags_;
  std::mutex mu_;
  std::set<std::string, std::less<>> tags_;
  std::atomic<std::uint64_t> capped_{0};
  std::atomic<bool> logged_long_{false}, logged_many_{false};
};

/// Routing configuration (the collector's `services` section sets it).
struct TagRouterOptions {
  /// Tag template; placeholders `{service}`, `{account}` (recipientAccountId), `{region}`
  /// (awsRegion). Each substituted value is lowercased and every character outside `[a-z0-9-]`
  /// becomes `_`, so it cannot add tag levels; an empty value becomes `unknown`.
  std::string routing_template = "cloud.aws.cloudtrail.{service}";
  /// Services to keep (include list), as service names (`s3`, `iam`, `insights`, `unknown`) or
  /// event sources (`s3.amazonaws.com`); normalised like the service. Empty = keep all.
  std::vector<std::string> services;
  /// Tag length and count bounds; null = TagLimits::process_wide().
  std::shared_ptr<TagLimits> limits;
};

/// `invalid_argument` naming the field when the template has an unknown or unclosed
/// placeholder or is empty (`diag.message` says which).
result<void> validate(const TagRouterOptions& o, Diagnostics& diag);

/// The service of an event: `eventSource` without `.amazonaws.com`, lowercased, characters
/// outside `[a-z0-9-]` replaced by `_`; `insights` when `eventType` is `AwsCloudTrailInsight`;
/// `unknown` when there is no `eventSource`.
std::string service_of(const Event& e);

/// Normalises a service name or event source as `service_of` does (`S3.amazonaws.com` → `s3`).
std::string normalize_service(std::string_view name_or_source);

/// Sets `Event::tag` from the routing template and filters by service; counts both. A service,
/// account or region longer than the limits' `max_value_length` becomes `unknown`; a tag beyond
/// `max_tags` distinct ones becomes the tag of service `unknown` (then with account and region
/// `unknown` too if that one is new and over the bound).
/// Pure; not thread-safe (one router per pipeline thread, or guard it).
class TagRouter {
 public:
  /// A router with the default options (`cloud.aws.cloudtrail.{service}`, every service kept,
  /// TagLimits::process_wide()); cannot fail.
  TagRouter() : TagRouter(TagRouterOptions{}, checked{}) {}

  /// A router for `options`, or `invalid_argument` (diag names the field) when
  /// `validate(options)` fails.
  static result<TagRouter> create(TagRouterOptions options, Diagnostics& diag);

  /// Tags `e`; returns false (and counts it as filtered) when its service is not included,
  /// in which case the tag is still set (for logging) but the event should be dropped.
  bool route(Event& e);

  /// Events routed per tag (filtered events not included), ordered by tag.
  const std::map<std::string, std::uint64_t, std::less<>>& counts() const noexcept {
    return counts_;
  }
  /// Events dropped by the service filter.
  std::uint64_t filtered() const noexcept { return filtered_; }
  /// Events this router sent to the `unknown` service because of a TagLimits bound.
  std::uint64_t capped() const noexcept { return capped_; }

  const TagRouterOptions& options() const noexcept { return options_; }

 private:
  struct checked {};  // the options passed validate()
  TagRouter(TagRouterOptions options, checked);
  enum class Part { literal, service, account, region };
  struct Piece {
    Part part;
    std::string text;
  };
  TagRouterOptions options_;
  std::vector<Piece> pieces_;
  std::vector<std::string> services_;  // normalised, sorted
  std::map<std::string, std::uint64_t, std::less<>> counts_;
  std::uint64_t filtered_ = 0;
  std::uint64_t capped_ = 0;
  std::string service_;  // scratch
  void expand(Event& e, bool all_unknown);
};

}  // namespace ctsqs
