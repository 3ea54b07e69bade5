// SqsSource: receives, deletes and hides/releases SQS messages (AWS JSON 1.0 protocol) for the
// pipeline; MessageQueue is the interface the pipeline uses, so a test can drive it in memory.
#pragma once

#include "ctsqs/collector/settings.hpp"
#include "ctsqs/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ctsqs {

class AwsClient;

namespace sqs {
struct BatchResult;
}

/// One received SQS message.
struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;  ///< what delete/visibility calls need; valid for this receipt only
  std::string body;
  int receive_count = 0;       ///< `ApproximateReceiveCount` (1 on the first delivery)
  /// `SentTimestamp`: when the message was sent to the queue (for the queue lag).
  std::optional<std::chrono::system_clock::time_point> sent_time;
};

/// A change of one message's visibility timeout (ChangeMessageVisibilityBatch entry).
struct VisibilityChange {
  std::string receipt_handle;
  std::chrono::seconds timeout{0};  ///< from now; 0 makes the message visible again at once
};

/// One entry of a batch call that failed for good (after the retries of partial failures).
struct BatchEntryFailure {
  std::string receipt_handle;
  std::string code;     ///< AWS error code of the entry, e.g. "ReceiptHandleIsInvalid"
  std::string message;
  bool sender_fault = false;
};

/// What a queue says about its messages (GetQueueAttributes; SQS's counts are approximate).
struct QueueCounts {
  std::int64_t visible = 0;    ///< ApproximateNumberOfMessages: waiting to be received
  std::int64_t in_flight = 0;  ///< ApproximateNumberOfMessagesNotVisible: received, not deleted
  std::int64_t delayed = 0;    ///< ApproximateNumberOfMessagesDelayed: not receivable yet
  /// The queue's VisibilityTimeout, when it was reported.
  std::optional<std::chrono::seconds> visibility_timeout;
  bool empty() const noexcept { return visible == 0 && in_flight == 0 && delayed == 0; }
};

/// Reads QueueCounts from GetQueueAttributes' attribute map; a count that is missing or not a
/// non-negative integer is `aws_errc::malformed_response` naming the attribute. Pure.
result<QueueCounts> queue_counts_from_attributes(const std::map<std::string, std::string>& attributes,
                                                 Diagnostics& diag);

enum class MessageOutcome;  // collector.hpp

/// The SQS operations the pipeline needs. Implementations must allow several calls in flight at
/// once on one executor.
class MessageQueue {
 public:
  virtual ~MessageQueue() = default;

  /// ReceiveMessage (long poll) of at most `max_messages` (1..10; further capped by the
  /// implementation's own setting). An empty vector means the poll ended without messages.
  virtual boost::asio::awaitable<result<std::vector<SqsMessage>>> async_receive(int max_messages,
                                                                                 Diagnostics& diag) = 0;

  /// DeleteMessageBatch over `receipt_handles` (any number: sent in batches of 10; entries that
  /// fail with a retryable error are retried). Returns the entries that could not be deleted.
  virtual boost::asio::awaitable<result<std::vector<BatchEntryFailure>>> async_delete(
      std::vector<std::string> receipt_handles, Diagnostics& diag) = 0;

  /// ChangeMessageVisibilityBatch (any number: batches of 10, partial failures retried).
  /// Returns the entries that could not be changed.
  virtual boost::asio::awaitable<result<std::vector<BatchEntryFailure>>> async_change_visibility(
      std::vector<VisibilityChange> changes, Diagnostics& diag) = 0;

  /// The queue's message counts (GetQueueAttributes), which a drain checks before it reports the
  /// queue drained. The default says the queue cannot tell (`client_errc::invalid_argument`),
  /// so a drain over such a queue never claims it is empty.
  virtual boost::asio::awaitable<result<QueueCounts>> async_queue_counts(Diagnostics& diag);

  /// How the collector ended the work of a received message, told before it deletes the
  /// message or changes its visibility. SQS does not need it; a queue that keeps its own record
  /// does (BackfillQueue records an object done on a delete only when it was delivered, and
  /// counts only the object's own failures towards its receive limit). Default: nothing.
  virtual void note_outcome(const std::string& receipt_handle, MessageOutcome outcome) {
    (void)receipt_handle;
    (void)outcome;
  }

  /// The receive settings this queue was made with (SqsSource: SqsSourceOptions::receive): the
  /// Collector extends messages by this visibility timeout unless CollectorOptions::receive is
  /// set. Default: none (the Collector then uses SqsReceiveOptions' defaults).
  virtual std::optional<SqsReceiveOptions> receive_options() const { return std::nullopt; }
};

/// Settings of an SqsSource.
struct SqsSourceOptions {
  std::string queue_url;  ///< the queue (the template's `base_url`)
  /// WaitTimeSeconds, MaxNumberOfMessages and VisibilityTimeout of ReceiveMessage; a Collector
  /// over this source extends messages by the same timeout (receive_options()).
  SqsReceiveOptions receive;
  int batch_retries = 3;  ///< retries of partially failed batch entries
};

/// `invalid_argument` naming the field when a setting is out of range.
result<void> validate(const SqsSourceOptions& options, Diagnostics& diag);

/// MessageQueue over real SQS through an AwsClient (signing, credentials, retries).
///
/// Thread safety: calls run on the AwsClient's executor; several may be in flight at once.
/// The AwsClient must outlive the SqsSource.
class SqsSource final : public MessageQueue {
 public:
  /// A source for `options.queue_url`, its endpoint and region resolved from the URL and the
  /// client's configuration; `client_errc::invalid_argument` with `diag.message` naming the
  /// setting (`queue_url`, `wait_time`, ... as validate() says; "queue URL ...", "region: ...",
  /// "SQS endpoint: ...") when that is impossible. Sends no request.
  static result<std::unique_ptr<SqsSource>> create(AwsClient& client, SqsSourceOptions options,
                                                   Diagnostics& diag);
  ~SqsSource() override;
  SqsSource(const SqsSource&) = delete;
  SqsSource& operator=(const SqsSource&) = delete;

  const SqsSourceOptions& options() const noexcept { return options_; }
  /// The SQS endpoint requests go to, e.g. "https://sqs.us-east-1.amazonaws.com".
  const std::string& endpoint() const noexcept;

  boost::asio::awaitable<result<std::vector<SqsMessage>>> async_receive(int max_messages,
                                                                         Diagnostics& diag) override;
  boost::asio::awaitable<result<std::vector<BatchEntryFailure>>> async_delete(
      std::vector<std::string> receipt_handles, Diagnostics& diag) override;
  boost::asio::awaitable<result<std::vector<BatchEntryFailure>>> async_change_visibility(
      std::vector<VisibilityChange> changes, Diagnostics& diag) override;
  boost::asio::awaitable<result<QueueCounts>> async_queue_counts(Diagnostics& diag) override;
  std::optional<SqsReceiveOptions> receive_options() const override { return options_.receive; }

  /// SendMessageBatch of `bodies` (any number: batches of 10; entries that fail with a retryable
  /// error, or that the answer does not mention, are sent again up to `batch_retries` times).
  /// Returns the indexes into `bodies` that could not be sent, with why (in `receipt_handle`:
  /// the index as text). A retry after a lost answer may send a body twice (at-least-once).
  boost::asio::awaitable<result<std::vector<BatchEntryFailure>>> async_send(std::vector<std::string> bodies,
                                                                            Diagnostics& diag);

 private:
  struct Target;
  enum class BatchKind { delete_messages, change_visibility, send_messages };
  /// One entry of a batch call: a receipt handle (delete, visibility: with its timeout) or a
  /// body (send), and the name its failure carries (the receipt handle, the body's index).
  struct BatchItem {
    std::string value;
    std::chrono::seconds timeout{0};
    std::string name;
  };
  /// Any number of entries, 10 per call, each call through batch_call.
  boost::asio::awaitable<std::vector<BatchEntryFailure>> in_batches(BatchKind kind, std::vector<BatchItem> entries);
  /// One batch call (<= 10 entries) with its retryable entries sent again: the one retry loop
  /// of the three batch actions.
  boost::asio::awaitable<std::vector<BatchEntryFailure>> batch_call(BatchKind kind, std::vector<BatchItem> entries);
  SqsSource(AwsClient& client, SqsSourceOptions options, std::shared_ptr<Target> target);
  AwsClient& client_;
  SqsSourceOptions options_;
  std::shared_ptr<Target> target_;
};

}  // namespace ctsqs
