// The collector's settings, one struct per concept: the collector file's parser fills them
// (CollectorConfig's `ctsqs` sections) and the pipeline runs with the same structs
// (CollectorOptions, SqsSourceOptions). Their defaults live here and nowhere else.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>

namespace ctsqs {

/// `ctsqs.run.shutdown_grace` and CollectorOptions::shutdown_grace: after a stop request, time
/// to finish in-flight messages before the rest is released (visibility 0).
inline constexpr std::chrono::seconds default_shutdown_grace{30};

/// `ctsqs.concurrency`: bounds on work in flight.
struct ConcurrencyOptions {
  /// `messages_in_flight`: SQS messages received and not yet deleted/released.
  std::size_t messages_in_flight = 128;
  /// `objects_in_flight`: S3 objects fetched/decoded at once: the fixed number, or with
  /// `adaptive_objects_in_flight` (the file's `"auto"`, the default) the starting point of a
  /// limit that follows the objects' latency (AdaptiveConcurrency) between 1 and
  /// `max_objects_in_flight`.
  std::size_t objects_in_flight = 8;
  bool adaptive_objects_in_flight = true;
  std::size_t max_objects_in_flight = 64;  ///< `max_objects_in_flight`: the adaptive limit's ceiling
  std::size_t receives_in_flight = 4;      ///< `receives_in_flight`: concurrent ReceiveMessage long polls
  /// `decode_threads`: threads that decode (inflate, parse, flatten, format, hash) the objects in
  /// flight while the I/O stays on the executor: 0 = the machine's cores (default); 1 = on the
  /// executor itself. Each object's chunks are decoded one after another (its events stay in
  /// order); at most one job per object in flight is queued (within `objects_in_flight`).
  unsigned decode_threads = 0;
};

/// `ctsqs.sqs` (the template's `sqs_wait_timeout`, `sqs_max_messages`, `sqs_visibility_timeout`
/// set the same values): how the queue is polled and how long a received message stays hidden.
/// The one place the visibility timeout is set: an SqsSource asks for it on receive, the
/// Collector extends messages by it (MessageQueue::receive_options()).
struct SqsReceiveOptions {
  std::chrono::seconds wait_time{20};  ///< `wait_time`: long-poll WaitTimeSeconds (0..20)
  int max_messages = 10;               ///< `max_messages`: MaxNumberOfMessages of one receive (1..10)
  /// `visibility_timeout`: VisibilityTimeout asked for on receive and on every extension
  /// (1 s..12 h).
  std::chrono::seconds visibility_timeout{120};
  /// `visibility_extension_interval`: how often a message still being worked on gets its
  /// visibility extended; must be shorter than `visibility_timeout`. Unset: a third of
  /// `visibility_timeout` (40 s for the default 120 s), so one late extension is harmless.
  std::optional<std::chrono::seconds> visibility_extension_interval;

  /// The extension interval in effect (the set one, or a third of the timeout, at least 1 s).
  std::chrono::seconds extension_interval() const noexcept {
    return visibility_extension_interval.value_or(
        std::max(std::chrono::seconds(1), visibility_timeout / 3));
  }
};

/// `ctsqs.on_permanent_error`: what happens to messages whose work failed permanently (object
/// gone, access denied, not a CloudTrail file, corrupt).
struct PermanentFailurePolicy {
  /// 0 (the file's `"leave"`, default): never delete them; they come back after `retry_backoff`
  /// until the queue's redrive policy moves them to its dead-letter queue. N > 0 (the file's
  /// `{"delete_after_receives": N}`): delete a message once it was received N times and failed
  /// for a reason of its own (is_message_failure) on that receive (its failure is logged each
  /// time); failures of the environment never delete.
  int delete_after_receives = 0;
};

/// `ctsqs.on_sink_failure`: when a sink that keeps failing ends the run (exit 1 for the CLI)
/// instead of sending the same messages round (received, failed, hidden for the retry backoff,
/// received again) forever. A sink closed by its reader (`client_errc::sink_closed`, a broken
/// pipe) ends the run at once.
struct SinkFailurePolicy {
  /// `give_up_after_flushes`: give up once this many flushes in a row failed (no success
  /// between)... 0: never give up. Counted per tag: a flush that delivered only other tags'
  /// events (or heartbeats) does not end a tag's streak, so one file of a directory output that
  /// can no longer grow (EFBIG) ends the run as a full disk does.
  int give_up_after_flushes = 5;
  /// `give_up_after`: ...and the first of them failed at least this long ago (an outage of the
  /// Devo relay shorter than this is ridden out).
  std::chrono::seconds give_up_after{60};
};

}  // namespace ctsqs
