// Retry policy in one place: AWS "standard" retry mode (bounded attempts, exponential backoff
// with full jitter, retry quota) and clock-skew correction from the server's Date header.
#pragma once

#include "ctsqs/error.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace ctsqs {

/// The single retry decision point: true for connection resets, refused/aborted connections,
/// premature end of stream, truncated TLS streams and timeouts, and for the AWS errors
/// is_retryable_aws_error() accepts (throttling, 5xx, request timeout, clock skew and expired
/// credentials — both fixed before the retry —, malformed bodies, redirects once followed);
/// false for every other 4xx, local limits, cancellation and configuration errors.
/// AwsClient does not replay redirects itself: the caller re-targets the request.
bool is_retryable(const error_code& ec) noexcept;

/// True for throttling errors (they back off from a larger base delay).
bool is_throttling(const error_code& ec) noexcept;

/// True for errors where no response arrived in time (they cost more retry quota).
bool is_timeout(const error_code& ec) noexcept;

/// Settings of the standard retry mode. Defaults follow the AWS SDKs' standard mode: 3 attempts,
/// delay = random[0,1) * min(max_backoff, base * 2^(attempt-1)), base 100 ms for transient
/// errors and 1 s for throttling (AWS SDK for Java 2.x standard mode), max backoff 20 s,
/// retry quota 500 tokens, 5 per retry, 10 per retry after a timeout, 1 back per success.
struct RetryPolicy {
  int max_attempts = 3;                                  ///< attempts in total, >= 1
  std::chrono::milliseconds base_delay{100};             ///< base for transient errors
  std::chrono::milliseconds throttling_base_delay{1000}; ///< base for throttling errors
  std::chrono::milliseconds max_backoff{20000};          ///< cap of one delay
  int quota_capacity = 500;  ///< retry quota (token bucket); 0 disables the quota
  int retry_cost = 5;
  int timeout_retry_cost = 10;
  int success_refund = 1;
};

/// Source of jitter in [0, 1). Injected so tests are deterministic.
using JitterSource = std::function<double()>;

/// A uniform [0, 1) jitter source seeded from std::random_device (thread-safe).
JitterSource default_jitter();

/// Delay before attempt `attempt + 1` after attempt `attempt` (1-based) failed with `ec`:
/// full jitter over min(max_backoff, base * 2^(attempt-1)).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, const error_code& ec,
                                        double jitter) noexcept;

/// The retry quota of the standard mode: a token bucket shared by every request of one client,
/// so a service outage does not multiply the load by max_attempts. Thread-safe.
class RetryQuota {
 public:
  explicit RetryQuota(const RetryPolicy& policy);
  /// Take the tokens a retry after `ec` costs; false (and nothing taken) when the bucket is empty.
  bool try_acquire(const error_code& ec) noexcept;
  /// A request succeeded: give back what its retry took (or `success_refund` when it took none).
  void release(int acquired) noexcept;
  int available() const noexcept;
  int cost(const error_code& ec) const noexcept;

 private:
  struct State;
  RetryPolicy policy_;
  std::shared_ptr<State> state_;
};

/// Parse an HTTP Date (RFC 9110 IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; also the obsolete
/// RFC 850 and asctime forms) into a time point, or nullopt.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) noexcept;

/// The offset to add to the local clock so it agrees with the server: server_date - local_now,
/// or nullopt when the Date header is missing/unparseable. Used after clock_skew errors.
std::optional<std::chrono::seconds> clock_skew_offset(std::string_view date_header,
                                                      std::chrono::system_clock::time_point local_now) noexcept;

}  // namespace ctsqs
