// Unit tests of SqsSource: option validation and the matching of batch answers to entries (the
// I/O paths run against real peers in tests/integration/collector_*_test.cpp).
#include "ctsqs/collector/sqs_source.hpp"
#include "ctsqs/aws/sqs/protocol.hpp"
#include "../../lib/detail/sqs_batch.hpp"

#include "catch_result.hpp"

using namespace ctsqs;
using namespace std::chrono_literals;

TEST_CASE("sqs source: options are validated naming the field", "[sqs_source]") {
  SqsSourceOptions o;
  Diagnostics d;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("queue_url") != std::string::npos);
  o.queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/q";
  CHECK(validate(o, d));
  o.receive.wait_time = 21s;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("wait_time") != std::string::npos);
  o.receive.wait_time = 0s;
  CHECK(validate(o, d));
  o.receive.max_messages = 11;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("max_messages") != std::string::npos);
  o.receive.max_messages = 1;
  o.receive.visibility_timeout = 43201s;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("visibility_timeout") != std::string::npos);
}

namespace {

sqs::BatchFailure failure(std::string id, std::string code, bool sender_fault) {
  return sqs::BatchFailure{std::move(id), std::move(code), "msg", sender_fault};
}

}  // namespace

TEST_CASE("sqs source: batch answer with every entry successful is done", "[sqs_source]") {
  sqs::BatchResult a;
  a.successful = {"m0", "m1", "m2"};
  auto r = classify_batch_round(3, a, true);
  CHECK(r.retry.empty());
  CHECK(r.failed.empty());
  CHECK(r.unknown_ids.empty());
}

TEST_CASE("sqs source: an entry the batch answer omits is retried, then fails, never done", "[sqs_source]") {
  sqs::BatchResult a;
  a.successful = {"m0", "m2"};
  auto r = classify_batch_round(3, a, true);
  CHECK(r.retry == std::vector<std::size_t>{1});
  CHECK(r.failed.empty());
  auto last = classify_batch_round(3, a, false);
  CHECK(last.retry.empty());
  REQUIRE(last.failed.size() == 1);
  CHECK(last.failed[0].first == 1);
  CHECK(last.failed[0].second.code == "MissingFromResponse");
  CHECK_FALSE(last.failed[0].second.sender_fault);
}

TEST_CASE("sqs source: malformed or unknown ids in a batch answer never throw nor count", "[sqs_source]") {
  sqs::BatchResult a;
  a.successful = {"m0", "m", "m99999999999999999999999", "x1", "m1x", "m-1", "m3"};
  a.failed = {failure("mz", "InternalError", false), failure("m18446744073709551616", "InternalError", false),
              failure("", "InternalError", false), failure("m5", "InternalError", false)};
  BatchRoundOutcome r;
  REQUIRE_NOTHROW(r = classify_batch_round(2, a, true));
  // m0 succeeded; m1 was named only by malformed ids: not done, retried.
  CHECK(r.retry == std::vector<std::size_t>{1});
  CHECK(r.failed.empty());
  CHECK(r.unknown_ids.size() == 10);
}

TEST_CASE("sqs source: failed entries are retried when retryable, final otherwise", "[sqs_source]") {
  sqs::BatchResult a;
  a.successful = {"m0"};
  a.failed = {failure("m1", "InternalError", false), failure("m2", "ReceiptHandleIsInvalid", true)};
  auto r = classify_batch_round(3, a, true);
  CHECK(r.retry == std::vector<std::size_t>{1});
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].first == 2);
  CHECK(r.failed[0].second.code == "ReceiptHandleIsInvalid");
  CHECK(r.failed[0].second.sender_fault);
  auto last = classify_batch_round(3, a, false);
  CHECK(last.retry.empty());
  CHECK(last.failed.size() == 2);
}

TEST_CASE("sqs source: an entry listed both successful and failed is not done", "[sqs_source]") {
  sqs::BatchResult a;
  a.successful = {"m0", "m1"};
  a.failed = {failure("m1", "InternalError", false)};
  auto r = classify_batch_round(2, a, true);
  CHECK(r.retry == std::vector<std::size_t>{1});
  CHECK(r.failed.empty());
}

TEST_CASE("sqs source: queue counts from GetQueueAttributes, a bad count names the attribute", "[sqs_source]") {
  Diagnostics diag;
  std::map<std::string, std::string> a{{"ApproximateNumberOfMessages", "0"},
                                       {"ApproximateNumberOfMessagesNotVisible", "3"},
                                       {"ApproximateNumberOfMessagesDelayed", "1"},
                                       {"VisibilityTimeout", "45"}};
  auto c = queue_counts_from_attributes(a, diag);
  REQUIRE(c);
  CHECK(c->visible == 0);
  CHECK(c->in_flight == 3);
  CHECK(c->delayed == 1);
  CHECK(c->visibility_timeout == std::chrono::seconds(45));
  CHECK_FALSE(c->empty());

  a["ApproximateNumberOfMessagesNotVisible"] = "0";
  a["ApproximateNumberOfMessagesDelayed"] = "0";
  a.erase("VisibilityTimeout");
  c = queue_counts_from_attributes(a, diag);
  REQUIRE(c);
  CHECK(c->empty());
  CHECK_FALSE(c->visibility_timeout);

  a["ApproximateNumberOfMessagesNotVisible"] = "-1";
  CHECK_FALSE(queue_counts_from_attributes(a, diag));
  CHECK(diag.message.find("ApproximateNumberOfMessagesNotVisible") != std::string::npos);
  a["ApproximateNumberOfMessagesNotVisible"] = "2x";
  CHECK_FALSE(queue_counts_from_attributes(a, diag));
  a.erase("ApproximateNumberOfMessagesDelayed");
  a["ApproximateNumberOfMessagesNotVisible"] = "0";
  CHECK_FALSE(queue_counts_from_attributes(a, diag));
  CHECK(diag.message.find("ApproximateNumberOfMessagesDelayed is missing") != std::string::npos);
}
