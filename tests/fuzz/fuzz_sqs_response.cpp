// Fuzz target: the SQS JSON 1.0 response parsers (ReceiveMessage, batch results, attributes, errors).
#include "ctsqs/aws/sqs/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  // First byte picks the status so both the success and the error paths are explored.
  int status = 200;
  if (size > 0) {
    static constexpr int statuses[] = {200, 400, 403, 500, 503, 429, 502, 301};
    status = statuses[data[0] % 8];
    ++data;
    --size;
  }
  HttpResponse res;
  res.status = status;
  res.body.assign(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] == '{') res.headers.push_back({"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"});
  Diagnostics diag;
  if (auto msgs = sqs::parse_receive_message_response(res, diag)) {
    for (const auto& m : *msgs) {
      (void)m.receive_count();
      (void)m.sent_time();
    }
  } else if (msgs.error().category() != aws_category()) {
    __builtin_trap();  // parsers only report AWS-side errors
  }
  if (auto b = sqs::parse_delete_message_batch_response(res, diag))
    for (const auto& f : b->failed) (void)sqs::is_retryable(f);
  (void)sqs::parse_get_queue_attributes_response(res, diag);
  (void)sqs::parse_change_message_visibility_response(res, diag);
  auto ec = sqs::parse_error(res, diag);
  if (!ec || diag.http_status != status) __builtin_trap();
  return 0;
}
