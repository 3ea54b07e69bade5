// TagRouter: turns an Event's routing fields into its tag and applies the service filter.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// Routing configuration (the collector's `services` section sets it).
struct TagRouterOptions {
  /// Tag template; placeholders `{service}`, `{account}` (recipientAccountId), `{region}`
  /// (awsRegion). Each substituted value is lowercased and every character outside `[a-z0-9-]`
  /// becomes `_`, so it cannot add tag levels; an empty value becomes `unknown`.
  std::string routing_template = "cloud.aws.cloudtrail.{service}";
  /// Services to keep (include list), as service names (`s3`, `iam`, `insights`, `unknown`) or
  /// event sources (`s3.amazonaws.com`); normalised like the service. Empty = keep all.
  std::vector<std::string> services;
};

/// `invalid_argument` naming the field when the template has an unknown or unclosed
/// placeholder or is empty.
result<void> validate(const TagRouterOptions& o, Diagnostics* diag = nullptr);

/// The service of an event: `eventSource` without `.amazonaws.com`, lowercased, characters
/// outside `[a-z0-9-]` replaced by `_`; `insights` when `eventType` is `AwsCloudTrailInsight`;
/// `unknown` when there is no `eventSource`.
std::string service_of(const Event& e);

/// Normalises a service name or event source as `service_of` does (`S3.amazonaws.com` → `s3`).
std::string normalize_service(std::string_view name_or_source);

/// Sets `Event::tag` from the routing template and filters by service; counts both.
/// Pure; not thread-safe (one router per pipeline thread, or guard it).
class TagRouter {
 public:
  /// Throws std::invalid_argument when `validate(options)` fails (configuration error).
  explicit TagRouter(TagRouterOptions options = {});

  /// Tags `e`; returns false (and counts it as filtered) when its service is not included,
  /// in which case the tag is still set (for logging) but the event should be dropped.
  bool route(Event& e);

  /// Events routed per tag (filtered events not included), ordered by tag.
  const std::map<std::string, std::uint64_t, std::less<>>& counts() const noexcept {
    return counts_;
  }
  /// Events dropped by the service filter.
  std::uint64_t filtered() const noexcept { return filtered_; }

  const TagRouterOptions& options() const noexcept { return options_; }

 private:
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
  std::string service_;  // scratch
};

}  // namespace ctsqs
