// SQS over the AWS JSON 1.0 protocol, sans-I/O: make_<op>_request builds an HttpRequest, parse_<op>_response reads an HttpResponse.
//
// Wire format: POST / with `Content-Type: application/x-amz-json-1.0`, `X-Amz-Target:
// AmazonSQS.<Operation>` and a JSON body (Amazon SQS API Reference, "Making query API requests
// using AWS JSON protocol"). Requests are unsigned here; the AWS client glue signs them
// (service "sqs"). Nothing in this header does I/O or reads a clock.
#pragma once

#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::sqs {

/// Largest number of entries of one batch call and of messages of one receive.
inline constexpr std::size_t max_batch_entries = 10;

/// ReceiveMessage parameters.
struct ReceiveMessageParams {
  Endpoint endpoint;      ///< where the request goes (resolve_sqs_endpoint); scheme, host, base_path are used
  std::string queue_url;  ///< the queue, e.g. "https://sqs.us-east-1.amazonaws.com/123456789012/q"
  int max_messages = 10;  ///< MaxNumberOfMessages, 1..10
  /// WaitTimeSeconds (long polling), 0..20 s; unset = the queue's ReceiveMessageWaitTimeSeconds.
  std::optional<std::chrono::seconds> wait_time = std::chrono::seconds(20);
  /// VisibilityTimeout for the received messages, 0..43200 s; unset = the queue's default.
  std::optional<std::chrono::seconds> visibility_timeout;
  /// System attributes to return, sent both as MessageSystemAttributeNames and as the older
  /// AttributeNames (servers that predate the former read the latter).
  std::vector<std::string> system_attributes{"ApproximateReceiveCount", "SentTimestamp"};
  /// MessageAttributeNames to return (e.g. {"All"}); empty = none.
  std::vector<std::string> message_attributes;
  /// ReceiveRequestAttemptId (FIFO queues only; lets a retried receive return the same messages).
  std::string receive_request_attempt_id;
};

/// One received message.
struct Message {
  std::string message_id;
  std::string receipt_handle;  ///< needed to delete / change visibility; valid for this receipt only
  std::string body;
  std::string md5_of_body;     ///< as sent by SQS, lower-case hex (already verified by the parser)
  std::map<std::string, std::string> attributes;          ///< system attributes (Attributes)
  std::map<std::string, std::string> message_attributes;  ///< string values of MessageAttributes

  /// ApproximateReceiveCount, or 0 when it was not returned or is not a number.
  int receive_count() const noexcept;
  /// SentTimestamp (milliseconds since the epoch), when returned as a time from 1970 up to
  /// what system_clock holds (year 2262).
  std::optional<std::chrono::system_clock::time_point> sent_time() const noexcept;
};

/// DeleteMessageBatch entry.
struct DeleteEntry {
  std::string id;              ///< unique within the batch: 1..80 of [A-Za-z0-9_-]
  std::string receipt_handle;
};

/// ChangeMessageVisibility(Batch) entry.
struct VisibilityEntry {
  std::string id;              ///< unique within the batch (ignored by the single-message call)
  std::string receipt_handle;
  std::chrono::seconds visibility_timeout{0};  ///< 0..43200 s from now; 0 = visible again at once
};

/// DeleteMessageBatch parameters (1..10 entries).
struct DeleteMessageBatchParams {
  Endpoint endpoint;
  std::string queue_url;
  std::vector<DeleteEntry> entries;
};

/// ChangeMessageVisibility parameters (one message; `entry.id` is not used).
struct ChangeMessageVisibilityParams {
  Endpoint endpoint;
  std::string queue_url;
  VisibilityEntry entry;
};

/// ChangeMessageVisibilityBatch parameters (1..10 entries).
struct ChangeMessageVisibilityBatchParams {
  Endpoint endpoint;
  std::string queue_url;
  std::vector<VisibilityEntry> entries;
};

/// SendMessageBatch entry.
struct SendEntry {
  std::string id;    ///< unique within the batch: 1..80 of [A-Za-z0-9_-]
  std::string body;  ///< the message body (1 byte .. 256 KiB; the batch together at most 256 KiB)
};

/// SendMessageBatch parameters (1..10 entries).
struct SendMessageBatchParams {
  Endpoint endpoint;
  std::string queue_url;
  std::vector<SendEntry> entries;
};

/// GetQueueAttributes parameters.
struct GetQueueAttributesParams {
  Endpoint endpoint;
  std::string queue_url;
  std::vector<std::string> attribute_names{"All"};  ///< e.g. ApproximateNumberOfMessages, QueueArn
};

/// One failed entry of a batch call (BatchResultErrorEntry).
struct BatchFailure {
  std::string id;
  std::string code;          ///< e.g. "ReceiptHandleIsInvalid", "InternalError"
  std::string message;
  bool sender_fault = false; ///< true: the request was wrong, retrying it will not help
};

/// The outcome of a batch call: ids that succeeded, and the failures.
struct BatchResult {
  std::vector<std::string> successful;
  std::vector<BatchFailure> failed;
};

/// True when a failed batch entry is worth sending again: SQS's SenderFault is false (a server
/// side problem) or the code is a throttling/5xx one; false for a sender fault such as an
/// invalid or expired receipt handle.
bool is_retryable(const BatchFailure& failure) noexcept;

/// AmazonSQS.SendMessageBatch. Fails with client_errc::invalid_argument (diag names the entry)
/// for 0 or more than 10 entries, a bad or repeated id, an empty body, or bodies over 256 KiB.
result<HttpRequest> make_send_message_batch_request(const SendMessageBatchParams& params, Diagnostics& diag);

/// The Successful/Failed ids of a SendMessageBatch answer.
result<BatchResult> parse_send_message_batch_response(const HttpResponse& response, Diagnostics& diag);

/// AmazonSQS.ReceiveMessage. Fails with client_errc::invalid_argument (diag names the field)
/// when max_messages, wait_time or visibility_timeout are out of range, the endpoint has no
/// host, or the queue URL is not an http(s) URL.
result<HttpRequest> make_receive_message_request(const ReceiveMessageParams& params, Diagnostics& diag);

/// Reads a ReceiveMessage response: `{}` or `{"Messages":[...]}` → messages (possibly none).
/// Every message's MD5OfBody is checked against its body (aws_errc::checksum_mismatch naming the
/// message id, for the whole response, as the AWS SDKs do). Non-2xx → the SQS error (see
/// parse_error); a 2xx body that is not the expected JSON → aws_errc::malformed_response.
result<std::vector<Message>> parse_receive_message_response(const HttpResponse& response, Diagnostics& diag);

/// AmazonSQS.DeleteMessageBatch (1..10 entries, distinct valid ids; else invalid_argument).
result<HttpRequest> make_delete_message_batch_request(const DeleteMessageBatchParams& params,
                                                      Diagnostics& diag);

/// Reads a DeleteMessageBatch response into Successful ids and Failed entries: a 200 with
/// failed entries is a success of the call (retry the retryable entries); the call itself
/// failing (non-2xx) is an error. A 2xx body with neither `Successful` nor `Failed` (empty,
/// truncated, a proxy's answer) is aws_errc::malformed_response, never "all succeeded".
result<BatchResult> parse_delete_message_batch_response(const HttpResponse& response, Diagnostics& diag);

/// AmazonSQS.ChangeMessageVisibility for one message.
result<HttpRequest> make_change_message_visibility_request(const ChangeMessageVisibilityParams& params,
                                                           Diagnostics& diag);

/// Reads a ChangeMessageVisibility response (empty on success).
result<void> parse_change_message_visibility_response(const HttpResponse& response, Diagnostics& diag);

/// AmazonSQS.ChangeMessageVisibilityBatch (1..10 entries, distinct valid ids).
result<HttpRequest> make_change_message_visibility_batch_request(
    const ChangeMessageVisibilityBatchParams& params, Diagnostics& diag);

/// Reads a ChangeMessageVisibilityBatch response, like DeleteMessageBatch.
result<BatchResult> parse_change_message_visibility_batch_response(const HttpResponse& response,
                                                                   Diagnostics& diag);

/// AmazonSQS.GetQueueAttributes.
result<HttpRequest> make_get_queue_attributes_request(const GetQueueAttributesParams& params,
                                                      Diagnostics& diag);

/// Reads a GetQueueAttributes response: attribute name → value (all values are strings).
result<std::map<std::string, std::string>> parse_get_queue_attributes_response(const HttpResponse& response,
                                                                               Diagnostics& diag);

/// Turns a non-2xx SQS JSON response into an aws_errc and fills `diag`: aws_code from `__type`
/// without its namespace (`com.amazonaws.sqs#QueueDoesNotExist` → "QueueDoesNotExist"), else
/// from `x-amzn-query-error` ("AWS.SimpleQueueService.NonExistentQueue;Sender"); message from
/// `message`/`Message`; request id from `x-amzn-RequestId`; the HTTP status. A body that is not
/// JSON (a proxy's HTML page) is classified by status and quoted (truncated) in the message.
error_code parse_error(const HttpResponse& response, Diagnostics& diag);

}  // namespace ctsqs::sqs
