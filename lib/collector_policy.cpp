// Collector policy: the pure decisions (validation, what to do with a finished message, backoff).
#include "ctsqs/collector/collector.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/aws/retry.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>

namespace ctsqs {
namespace {

result<void> invalid(Diagnostics& diag, std::string message) {
  diag.message = std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

}  // namespace

result<void> validate(const CollectorOptions& o, Diagnostics& diag) {
  if (o.concurrency.messages_in_flight < 1) return invalid(diag, "messages_in_flight: must be at least 1");
  if (o.concurrency.objects_in_flight < 1) return invalid(diag, "objects_in_flight: must be at least 1");
  if (o.concurrency.receives_in_flight < 1) return invalid(diag, "receives_in_flight: must be at least 1");
  if (o.receive) {
    if (auto v = validate(*o.receive, diag); !v) return v;
  }
  if (o.retry_backoff_min.count() < 0 || o.retry_backoff_max < o.retry_backoff_min)
    return invalid(diag, "retry_backoff_min/retry_backoff_max: need 0 <= min <= max");
  if (o.retry_backoff_max > std::chrono::hours(12))
    return invalid(diag, "retry_backoff_max: SQS allows at most 12 h of visibility");
  if (o.on_permanent_failure.delete_after_receives < 0)
    return invalid(diag, "on_permanent_failure.delete_after_receives: must be 0 (leave for the DLQ) or >= 1");
  if (o.on_sink_failure.give_up_after_flushes < 0)
    return invalid(diag, "on_sink_failure.give_up_after_flushes: must be 0 (never) or >= 1");
  if (o.on_sink_failure.give_up_after.count() < 0)
    return invalid(diag, "on_sink_failure.give_up_after: must be >= 0 s");
  if (o.drain_empty_polls < 0) return invalid(diag, "drain_empty_polls: must be >= 0");
  if (o.sink_queue_events < 1) return invalid(diag, "sink_queue_events: must be at least 1");
  if (o.heartbeat.enabled && o.heartbeat.interval.count() < 1)
    return invalid(diag, "heartbeat.interval: must be at least 1 s");
  if (o.heartbeat.enabled && o.heartbeat.tag.empty()) return invalid(diag, "heartbeat.tag: must not be empty");
  return {};
}

result<void> validate(const SqsReceiveOptions& r, Diagnostics& diag) {
  if (r.max_messages < 1 || r.max_messages > 10) return invalid(diag, "max_messages: must be 1..10");
  if (r.visibility_timeout.count() < 1) return invalid(diag, "visibility_timeout: must be at least 1 s");
  const auto ext = r.extension_interval();
  if (ext.count() < 1 || ext >= r.visibility_timeout)
    return invalid(diag, "visibility_extension_interval: must be at least 1 s and shorter than visibility_timeout");
  return {};
}

std::chrono::seconds retry_backoff(int receive_count, std::chrono::seconds min, std::chrono::seconds max) {
  // Each earlier receive doubles the wait: 1st failure -> min, 2nd -> 2*min, ...
  std::int64_t v = min.count();
  for (int i = 1; i < receive_count && v < max.count(); ++i) v *= 2;
  return std::chrono::seconds(std::min<std::int64_t>(v, max.count()));
}

MessageDisposition decide_disposition(MessageOutcome outcome, int receive_count, const CollectorOptions& o) {
  using A = MessageDisposition::Action;
  const auto backoff = retry_backoff(receive_count, o.retry_backoff_min, o.retry_backoff_max);
  switch (outcome) {
    case MessageOutcome::delivered:
    case MessageOutcome::ignored:
      if (!o.ack_messages) return {A::change_visibility, backoff};
      return {A::delete_message, {}};
    case MessageOutcome::retryable_failure:
      return {A::change_visibility, backoff};
    case MessageOutcome::permanent_failure: {
      const int n = o.on_permanent_failure.delete_after_receives;
      if (n > 0 && receive_count >= n && o.ack_messages) return {A::delete_message, {}};
      return {A::change_visibility, backoff};
    }
  }
  return {A::change_visibility, backoff};
}

// is_retryable_failure and is_message_failure: failure.cpp (classify_failure).

}  // namespace ctsqs
