// AdaptiveConcurrency: how many objects to fetch and decode at once, learned from their latency.
// With real S3 an object spends tens of milliseconds waiting for its first byte; with many small
// objects the number in flight, not the CPU, then sets the pace. The limit doubles per
// observation window until the first decrease (slow start), then grows by one, while the latency
// of completed objects stays near its baseline and the limit was actually used, and shrinks by a factor when the latency climbs well above the
// lowest seen (the CPU or the network is saturated: more in flight only queues) or an object
// failed for a retryable reason (throttling, 5xx). An additive-increase, multiplicative-decrease
// loop on round-trip time, like Vector's adaptive request concurrency for its sinks, with a
// minimum-latency baseline re-measured now and then at low concurrency, as BBR's ProbeRTT does.
#pragma once

#include <chrono>
#include <cstddef>

namespace ctsqs {

/// Settings of AdaptiveConcurrency.
struct AdaptiveConcurrencyOptions {
  std::size_t initial = 8;  ///< limit at start
  std::size_t min = 1;      ///< never below
  std::size_t max = 64;     ///< never above (the configured maximum; memory bound)
  /// Latency counted as "near the baseline" while the window's mean stays within
  /// baseline × (1 + tolerance).
  double tolerance = 0.5;
  /// Multiplicative decrease.
  double decrease = 0.9;
  /// The baseline is the lowest window mean seen since the last probe. Every `probe_interval`
  /// one window runs at a quarter of the limit and its mean becomes the baseline (so a lasting
  /// change of the network is learnt; queueing never creeps into the baseline), then the limit
  /// is restored.
  std::chrono::milliseconds probe_interval{10000};
  /// Shortest window: a window closes after max(this, the baseline latency) and at least one
  /// completion.
  std::chrono::milliseconds min_window{50};
};

/// The limit and its control loop. Not thread-safe: call from the collector's executor. Times
/// are passed in (an injected clock), so the loop is tested without sleeping.
class AdaptiveConcurrency {
 public:
  using clock = std::chrono::steady_clock;

  explicit AdaptiveConcurrency(AdaptiveConcurrencyOptions options = {}, clock::time_point now = clock::now());

  /// The current limit.
  std::size_t limit() const noexcept { return limit_; }
  /// How many were in flight when one started: tells whether the limit is what holds work back.
  void started(std::size_t in_flight_now);
  /// One object completed after `latency` (ok, or a retryable failure such as throttling);
  /// permanent failures say nothing about load and should not be reported.
  void completed(std::chrono::nanoseconds latency, bool retryable_failure, clock::time_point now);

  /// Whether the current window runs at the probe limit.
  bool probing() const noexcept { return probing_; }
  /// The baseline latency the loop compares against (0 before the first window closed).
  std::chrono::nanoseconds baseline() const noexcept { return std::chrono::nanoseconds(static_cast<long long>(baseline_ns_)); }

 private:
  void close_window(clock::time_point now);

  AdaptiveConcurrencyOptions opt_;
  std::size_t limit_;
  double baseline_ns_ = 0;
  clock::time_point window_start_;
  double window_sum_ns_ = 0;
  std::size_t window_count_ = 0;
  bool window_failed_ = false;
  bool window_saturated_ = false;
  clock::time_point last_probe_;
  bool slow_start_ = true;            ///< doubling until the first decrease
  bool probing_ = false;             ///< this window runs at the probe limit
  std::size_t probing_restore_ = 0;  ///< the limit to restore after the probe
};

}  // namespace ctsqs
