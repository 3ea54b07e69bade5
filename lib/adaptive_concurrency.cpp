// AdaptiveConcurrency: AIMD on the latency of completed objects.
#include "detail/adaptive_concurrency.hpp"

#include <algorithm>
#include <cmath>

namespace ctsqs {

AdaptiveConcurrency::AdaptiveConcurrency(AdaptiveConcurrencyOptions options, clock::time_point now)
    : opt_(options), window_start_(now), last_probe_(now) {
  opt_.min = std::max<std::size_t>(1, opt_.min);
  opt_.max = std::max(opt_.min, opt_.max);
  limit_ = std::clamp(opt_.initial, opt_.min, opt_.max);
}

void AdaptiveConcurrency::started(std::size_t in_flight_now) {
  if (in_flight_now >= limit_) window_saturated_ = true;
}

void AdaptiveConcurrency::completed(std::chrono::nanoseconds latency, bool retryable_failure, clock::time_point now) {
  window_sum_ns_ += static_cast<double>(latency.count());
  ++window_count_;
  window_failed_ = window_failed_ || retryable_failure;
  const auto window = std::max<clock::duration>(opt_.min_window, std::chrono::nanoseconds(static_cast<long long>(baseline_ns_)));
  if (now - window_start_ >= window) close_window(now);
}

void AdaptiveConcurrency::close_window(clock::time_point now) {
  const double mean = window_sum_ns_ / static_cast<double>(window_count_);
  const bool failed = window_failed_;
  const bool saturated = window_saturated_;
  window_start_ = now;
  window_sum_ns_ = 0;
  window_count_ = 0;
  window_failed_ = false;
  window_saturated_ = false;
  if (probing_) {
    // The probe window ran at low concurrency: its latency is the unqueued cost.
    baseline_ns_ = mean;
    limit_ = probing_restore_;
    probing_ = false;
    last_probe_ = now;
    return;
  }
  const auto shrink = [this] {
    limit_ = std::max(opt_.min, static_cast<std::size_t>(std::floor(static_cast<double>(limit_) * opt_.decrease)));
    slow_start_ = false;
  };
  if (failed) {
    shrink();
  } else if (baseline_ns_ > 0 && mean > baseline_ns_ * (1 + opt_.tolerance)) {
    shrink();
  } else if (saturated && limit_ < opt_.max) {
    // Slow start: double until the first sign of saturation, then one at a time.
    limit_ = slow_start_ ? std::min(opt_.max, limit_ * 2) : limit_ + 1;
  }
  if (baseline_ns_ == 0 || mean < baseline_ns_) baseline_ns_ = mean;
  if (now - last_probe_ >= opt_.probe_interval) {
    probing_ = true;
    probing_restore_ = limit_;
    limit_ = std::max(opt_.min, limit_ / 4);
  }
}

}  // namespace ctsqs
