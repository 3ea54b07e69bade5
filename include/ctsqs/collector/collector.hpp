// Collector: the at-least-once pipeline SQS message -> notification -> S3 object (streamed) ->
// decoder -> router -> sink -> delete, with bounded concurrency on one executor.
#pragma once

#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/detail/completion.hpp"
#include "ctsqs/collector/settings.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"
#include "ctsqs/collector/metrics.hpp"
#include "ctsqs/collector/notification.hpp"
#include "ctsqs/collector/object_store.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/sink/sink.hpp"
#include "ctsqs/collector/sqs_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

class Ledger;

/// What one SQS message asks the pipeline to do (from its notification body).
struct MessagePlan {
  enum class Kind {
    objects,         ///< fetch and decode these S3 objects
    inline_records,  ///< the events are in the message itself (EventBridge "AWS API Call via CloudTrail")
    test_event,      ///< `s3:TestEvent`, CloudTrail's validation message: acknowledged (logged)
    nothing,         ///< a valid S3 notification announcing nothing to collect (e.g. ObjectRemoved): acknowledged (logged)
  };
  Kind kind = Kind::nothing;
  std::vector<ObjectRef> objects;
  /// For inline_records: each element is one event (a CloudTrail record, a GuardDuty finding)
  /// as JSON text, and the EventBridge source that carried them ("aws.cloudtrail" for
  /// CloudTrail API-call events, whatever their own source).
  std::vector<std::string> inline_records;
  std::string inline_source;
  std::string note;  ///< for `nothing`: why; for `test_event`: which (both logged)
};

/// Turns a message into a plan; an error is a permanent failure of the message (unrecognised
/// body), with `diag.message` saying what was wrong.
using MessagePlanner = std::function<result<MessagePlan>(const SqsMessage& message, Diagnostics& diag)>;

/// The built-in planner: every notification format of `parse_notification` (S3 event
/// notifications, SNS envelopes, CloudTrail's SNS notification, EventBridge events).
result<MessagePlan> plan_notification(const SqsMessage& message, Diagnostics& diag);

/// plan_notification, then check_allowed: a message refused by `allow` is a permanent failure
/// (`notification_errc::refused`, diag naming what was refused).
MessagePlanner make_notification_planner(NotificationAllowList allow);

/// Makes the decoder for one object, already begun (or, with `object.key` empty, for events
/// carried in the message, wrapped as `{"Records":[...]}`, with `event_source` their EventBridge
/// source: "aws.cloudtrail" for CloudTrail API-call events). Called on the pipeline's executor.
using PayloadDecoderFactory =
    std::function<std::unique_ptr<PayloadDecoder>(const ObjectRef& object, std::string_view event_source)>;

/// The decoder factory of one configured service: `handler->make_payload_decoder(settings,
/// decoder_options, diag)` per object, begun on the object's key. Fails at once
/// (`invalid_argument`, diag naming the field) when there is no handler or the settings are
/// unusable. Should the handler refuse later, that object fails with the handler's error.
result<PayloadDecoderFactory> make_payload_decoder_factory(std::shared_ptr<const ServiceHandler> handler,
                                                           ServiceSettings settings, DecoderOptions decoder_options,
                                                           Diagnostics& diag);

namespace integrity {
class DrainIntegrity;
}

/// Settings of a Collector. The concepts it shares with the collector file (concurrency, receive
/// and visibility, the failure policies, the heartbeat) are the same structs (collector_settings.hpp).
struct CollectorOptions {
  std::string collector_id;               ///< carried by heartbeat events and metrics
  /// Bounds on work in flight (`ctsqs.concurrency`).
  ConcurrencyOptions concurrency;
  /// Receive size, visibility timeout and its extension interval. Unset (the usual case): the
  /// queue's own (MessageQueue::receive_options(): an SqsSource's), so the visibility timeout is
  /// set once, where the queue is made; a queue without any gets SqsReceiveOptions' defaults.
  std::optional<SqsReceiveOptions> receive;
  /// Visibility given to a message after a retryable failure: `retry_backoff_min` doubled per
  /// earlier receive, capped at `retry_backoff_max` (so a failing object is not hammered).
  std::chrono::seconds retry_backoff_min{5};
  std::chrono::seconds retry_backoff_max{300};
  PermanentFailurePolicy on_permanent_failure;
  /// Giving up on a failing sink: receiving stops, the messages in flight are released
  /// (visibility 0) and the result carries `sink_error`.
  SinkFailurePolicy on_sink_failure;
  bool ack_messages = true;               ///< false: never delete (the message comes back)
  /// The delivery ledger (ledger/ledger.hpp), or nullptr for none; not owned, it must outlive
  /// the Collector. With one: the objects announced by each received batch are looked up in one
  /// call before any is fetched; one delivered already with the same version/ETag is not fetched
  /// again (its message is deleted, `duplicates_skipped` counts it), one with another ETag is
  /// delivered again (logged). Each delivered object is recorded after the flush that covered
  /// its events and before its message is deleted. A failing ledger is logged and counted
  /// (`ledger_errors`); delivery goes on without it (at-least-once, as with no ledger).
  Ledger* ledger = nullptr;
  /// Drain mode: stop once this many consecutive long polls came back empty while nothing was
  /// in flight and the queue's counts (MessageQueue::async_queue_counts) say it is empty;
  /// messages it reports in flight elsewhere are waited for up to the visibility timeout (the
  /// larger of `visibility_timeout` and the queue's). 0 = run until request_stop().
  int drain_empty_polls = 0;
  /// After request_stop(): time to finish in-flight messages; the rest is released (visibility 0).
  std::chrono::seconds shutdown_grace = default_shutdown_grace;
  /// After messages were released at the end (grace period over, or the sink gave up): how long
  /// long polls still open may take to answer before they are cut off (a poll cut off at SQS
  /// would hide what it took for a visibility timeout; one that answers hands it straight back).
  /// Set it to the long-poll wait time plus a margin.
  std::chrono::seconds release_settle{7};
  std::size_t sink_queue_events = 20000;  ///< events queued towards the sink thread before producers wait
  HeartbeatOptions heartbeat;             ///< periodic heartbeat event into the sink
  /// Digest checks in passing (`ctsqs.integrity.verify_digests`); null = off, and no log file
  /// is hashed. Findings become log lines, metrics and events tagged
  /// `cloud.aws.cloudtrail.integrity`, delivered with the digest's message.
  std::shared_ptr<integrity::DrainIntegrity> integrity;
  /// Where log lines go (permanent failures with object and reason, retries, shutdown);
  /// default: stderr.
  std::function<void(std::string_view line)> log;
};

/// `invalid_argument` naming the field when a setting is unusable.
result<void> validate(const CollectorOptions& options, Diagnostics& diag);

/// `invalid_argument` naming the field: max_messages outside 1..10, a visibility timeout under
/// 1 s, an extension interval not shorter than the timeout.
result<void> validate(const SqsReceiveOptions& options, Diagnostics& diag);

/// How a message's work ended.
enum class MessageOutcome {
  delivered,          ///< every event accepted by the sink and flushed
  ignored,            ///< nothing to deliver (test event, no objects)
  retryable_failure,  ///< network, throttling, 5xx, sink failure, the environment: try again later
  permanent_failure,  ///< the message's own: object gone, not CloudTrail, corrupt, unrecognised body
};

/// What to do with a message after its work ended.
struct MessageDisposition {
  enum class Action { delete_message, change_visibility } action = Action::delete_message;
  std::chrono::seconds visibility{0};  ///< for change_visibility
};

/// The pure decision: delete delivered/ignored messages (unless `ack_messages` is off), hide
/// retryable failures for the backoff, apply the permanent-failure policy.
MessageDisposition decide_disposition(MessageOutcome outcome, int receive_count,
                                      const CollectorOptions& options);

/// `min` doubled for each receive before this one, capped at `max`.
std::chrono::seconds retry_backoff(int receive_count, std::chrono::seconds min, std::chrono::seconds max);

/// Whether a failed object/message is worth retrying (network, throttling, 5xx, sink) or is
/// permanent (not found, access denied, undecodable content, unrecognised notification).
bool is_retryable_failure(const error_code& ec);

/// Whether an object's failure belongs to the message or its object — undecodable content, the
/// object or bucket gone (NoSuchKey, NoSuchBucket), an archived object, an object over the
/// caps — and may count as the message's permanent failure. Every other failure (credentials
/// that cannot be obtained, a refused signature, access denied, TLS, DNS, a proxy, 5xx after
/// retries) is the collector's environment: it never counts towards `delete_after_receives`;
/// the message is released for a retry and the collector pauses its receives.
bool is_message_failure(const error_code& ec);

/// How a run ended.
struct CollectorResult {
  std::uint64_t permanent_failures = 0;  ///< messages with a permanent failure (each receipt)
  /// Messages released for a retry (or at shutdown), or whose delete failed, and not completed
  /// later in this run.
  std::uint64_t unfinished = 0;
  /// The grace period expired: in-flight messages were released and their workers abandoned;
  /// stop the io_context (their coroutines never complete).
  bool abandoned = false;
  /// Drain mode only: receiving failed for good (a non-retryable error such as AccessDenied or
  /// a missing queue, or a retryable one 8 times in a row), or objects could not be read after
  /// 8 pauses in a row for failures that are not the messages' own, and the drain gave up.
  error_code receive_error;
  std::string receive_error_message;  ///< its detail
  /// Drain mode only: empty when SQS confirmed, as the drain ended, that the queue held nothing
  /// (none visible, in flight or delayed). Otherwise what was left, e.g. "3 in flight" (messages
  /// handed out in a receive answer that never arrived stay hidden until their visibility timeout
  /// ends; the drain polls on up to that long), or why the counts could not be read.
  std::string drain_incomplete;
  /// The sink failed for good (closed by its reader, or failing as `on_sink_failure` says) and
  /// the run stopped, releasing what was in flight.
  error_code sink_error;
  std::string sink_error_message;  ///< its detail, e.g. "write to fd 1: Broken pipe"
  bool clean() const noexcept {
    return permanent_failures == 0 && unfinished == 0 && !receive_error && drain_incomplete.empty() && !sink_error;
  }
};

/// The pipeline. Runs on one executor (single-threaded io_context); the sink is driven from a
/// dedicated thread so slow writes and flushes never stall visibility heartbeats and receives,
/// and the objects in flight are decoded on `decode_threads` threads of its own (each decoder
/// from one thread at a time: PayloadDecoder's contract; decoders that share state, such as a
/// TagLimits, must guard it).
///
/// A message is deleted only after every event it announced was accepted by the sink and a
/// sink flush covering them succeeded. While it is worked on, its visibility is extended every
/// `visibility_extension_interval`.
///
/// Lifetimes: queue, store, sink and metrics must outlive the Collector; `async_run` must have
/// completed before the Collector is destroyed.
class Collector {
 public:
  /// The Collector of `options`, or `invalid_argument` with `diag` naming the unusable setting
  /// (what `validate(options, diag)` refuses, an empty decoder factory or planner).
  static result<std::unique_ptr<Collector>> create(boost::asio::any_io_executor executor, MessageQueue& queue,
                                                   ObjectStore& store, Sink& sink, PayloadDecoderFactory decoders,
                                                   CollectorOptions options, Metrics& metrics, Diagnostics& diag,
                                                   MessagePlanner planner = &plan_notification);

  /// Takes `options` as they are: check them first with `validate(options, diag)`, or use
  /// create(), which does.
  Collector(boost::asio::any_io_executor executor, MessageQueue& queue, ObjectStore& store, Sink& sink,
            PayloadDecoderFactory decoders, CollectorOptions options, Metrics& metrics,
            MessagePlanner planner = &plan_notification);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  /// Receive and process until request_stop() (and the grace period) or, in drain mode, until
  /// the queue stays empty; completes with `void(error_code, CollectorResult)` through any
  /// completion token (a callback, `use_future`, `deferred`, `use_awaitable`,
  /// `as_tuple(use_awaitable)` to keep the result when the code is set).
  ///
  /// The error code says why the run could not go on, or that it was cancelled; the result
  /// always carries the details (counts, messages):
  /// - `result.sink_error` when the sink failed for good (`client_errc::sink_failed`/`sink_closed`);
  /// - else `result.receive_error` when a drain gave up receiving (e.g. AccessDenied);
  /// - else `asio::error::operation_aborted` when the run was stopped through the token's
  ///   cancellation slot;
  /// - else success — also when messages failed: see `CollectorResult::clean()`.
  ///
  /// Cancellation (the handler's associated slot, e.g. `bind_cancellation_slot`, a
  /// `parallel_group`, a timeout): terminal or partial is request_stop() — no more receives, the
  /// messages in flight get `shutdown_grace` to finish, the rest is released (visibility 0);
  /// total alone is ignored (delivered work cannot be undone). The Collector must outlive the
  /// operation.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(error_code, CollectorResult)) CompletionToken>
  auto async_run(CompletionToken&& token) {
    return detail::initiate_erased<CollectorResult>(
        std::forward<CompletionToken>(token),
        [this](completion_handler<CollectorResult> handler) { launch_run(std::move(handler)); });
  }

  /// The coroutine form, for the library's own coroutines and existing callers: the result
  /// alone, stopped by request_stop() only (the token form above is the public one).
  boost::asio::awaitable<CollectorResult> async_run();

  /// The executor the operation runs on (the one it was built with).
  boost::asio::any_io_executor get_executor() const;

  /// Stop receiving; in-flight messages get `shutdown_grace` to finish, then are released.
  /// Thread-safe (posts to the executor); may be called from a signal handler's completion.
  void request_stop();

 private:
  void launch_run(completion_handler<CollectorResult> handler);

  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ctsqs
