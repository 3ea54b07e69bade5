// Unit tests of SqsSource: option validation, create() (endpoint and region resolved from the
// queue URL, bad settings named; no request sent) and the matching of batch answers to entries (the
// I/O paths run against real peers in tests/integration/collector_*_test.cpp).
#include "ctsqs/collector/sqs_source.hpp"
#include "ctsqs/aws/client.hpp"
#include "ctsqs/aws/sqs/protocol.hpp"
#include "../../lib/detail/sqs_batch.hpp"

#include "catch_result.hpp"

#include <boost/asio/io_context.hpp>

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

namespace {

/// A client with static keys and the given region that reads no environment or file.
std::unique_ptr<AwsClient> offline_client(boost::asio::io_context& io, std::string region,
                                          std::string sqs_endpoint = "") {
  AwsClientOptions o;
  o.credentials.access_key_id = "AK";
  o.credentials.secret_access_key = "SK";
  o.endpoints.region = std::move(region);
  o.endpoints.sqs_endpoint = std::move(sqs_endpoint);
  o.env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  o.read_file = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return require_create<AwsClient>(io.get_executor(), std::move(o));
}

/// The message of SqsSource::create's error for `o` over `client` (checked to be
/// invalid_argument); "" when it succeeds.
std::string refusal(AwsClient& client, SqsSourceOptions o) {
  Diagnostics diag;
  auto s = SqsSource::create(client, std::move(o), diag);
  if (s) return "";
  CHECK(s.error() == client_errc::invalid_argument);
  return diag.message;
}

}  // namespace

TEST_CASE("sqs source: create() resolves the endpoint and region of the queue URL", "[sqs_source]") {
  boost::asio::io_context io;
  auto client = offline_client(io, "");
  Diagnostics diag;
  SqsSourceOptions o;
  o.queue_url = "https://sqs.eu-west-3.amazonaws.com/123456789012/trail";
  o.receive.max_messages = 4;
  auto s = SqsSource::create(*client, o, diag);
  REQUIRE(s);
  CHECK((*s)->endpoint() == "https://sqs.eu-west-3.amazonaws.com");
  CHECK((*s)->options().queue_url == o.queue_url);
  REQUIRE((*s)->receive_options());
  CHECK((*s)->receive_options()->max_messages == 4);
  // The client's endpoint override wins over the URL's host.
  auto local = offline_client(io, "us-east-1", "http://127.0.0.1:4566");
  o.queue_url = "http://127.0.0.1:4566/000000000000/trail";
  auto l = SqsSource::create(*local, o, diag);
  REQUIRE(l);
  CHECK((*l)->endpoint() == "http://127.0.0.1:4566");
}

TEST_CASE("sqs source: create() refuses a bad setting, naming it", "[sqs_source]") {
  boost::asio::io_context io;
  auto client = offline_client(io, "");
  SqsSourceOptions o;
  CHECK(refusal(*client, o) == "queue_url: must not be empty");
  o.queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/q";
  o.receive.max_messages = 0;
  CHECK(refusal(*client, o) == "max_messages: must be 1..10");
  o.receive.max_messages = 10;
  o.batch_retries = -1;
  CHECK(refusal(*client, o) == "batch_retries: must be >= 0");
  o.batch_retries = 0;
  CHECK(refusal(*client, o).empty());
  o.queue_url = "not a queue url";
  CHECK(refusal(*client, o).starts_with("queue URL not a queue url: "));
  // No region anywhere: not in the URL's host, the client or the environment.
  o.queue_url = "http://127.0.0.1:4566/000000000000/q";
  CHECK(refusal(*client, o).starts_with("region: "));
}
