// Unit tests of the SQS JSON 1.0 request builders and response/error parsers.
#include "ctsqs/aws/sqs/protocol.hpp"

#include "catch.hpp"
#include "unit/catch_result.hpp"
#include "test_paths.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <iterator>

using namespace ctsqs;
using namespace ctsqs::sqs;
namespace json = boost::json;

namespace {

Endpoint make_endpoint(std::string scheme, std::string host) {
  Endpoint e;
  e.scheme = std::move(scheme);
  e.host = std::move(host);
  e.signing_name = "sqs";
  return e;
}
const Endpoint endpoint = make_endpoint("https", "sqs.us-east-1.amazonaws.com");
const std::string queue = "https://sqs.us-east-1.amazonaws.com/123456789012/ct-queue";

HttpResponse ok(std::string body) { return HttpResponse{200, {{"x-amzn-RequestId", "req-1"}}, std::move(body)}; }

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Splits a recorded ".http" response (status line, headers, blank-or-not line, body).
HttpResponse parse_http_file(const std::string& text) {
  HttpResponse res;
  std::size_t pos = text.find('\n');
  auto status_line = text.substr(0, pos);
  res.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
  while (pos != std::string::npos && pos + 1 < text.size()) {
    auto next = text.find('\n', pos + 1);
    auto line = text.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (line.empty() || line.front() == '{' || colon == std::string::npos) {
      res.body = text.substr(line.empty() ? next + 1 : pos + 1);
      break;
    }
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    res.headers.push_back({line.substr(0, colon), value});
    pos = next;
  }
  return res;
}

}  // namespace

TEST_CASE("ReceiveMessage request is AWS JSON 1.0 with long polling and receive attributes", "[sqs]") {
  Diagnostics diag;
  ReceiveMessageParams p;
  p.endpoint = endpoint;
  p.queue_url = queue;
  p.visibility_timeout = std::chrono::seconds(120);
  auto req = make_receive_message_request(p, diag);
  REQUIRE(req.has_value());
  CHECK(req->method == "POST");
  CHECK(req->scheme == "https");
  CHECK(req->host == "sqs.us-east-1.amazonaws.com");
  CHECK(req->path == "/");
  CHECK(req->find_header("Content-Type")->value == "application/x-amz-json-1.0");
  CHECK(req->find_header("X-Amz-Target")->value == "AmazonSQS.ReceiveMessage");
  auto body = json::parse(req->body).as_object();
  CHECK(body.at("QueueUrl").as_string() == queue);
  CHECK(body.at("WaitTimeSeconds").as_int64() == 20);
  CHECK(body.at("MaxNumberOfMessages").as_int64() == 10);
  CHECK(body.at("VisibilityTimeout").as_int64() == 120);
  CHECK(json::serialize(body.at("MessageSystemAttributeNames")) == R"(["ApproximateReceiveCount","SentTimestamp"])");
  CHECK(json::serialize(body.at("AttributeNames")) == R"(["ApproximateReceiveCount","SentTimestamp"])");
}

TEST_CASE("ReceiveMessage request rejects out-of-range settings naming the field", "[sqs]") {
  Diagnostics diag;
  ReceiveMessageParams p;
  p.endpoint = endpoint;
  p.queue_url = queue;
  p.max_messages = 11;
  auto r = make_receive_message_request(p, diag);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == client_errc::invalid_argument);
  CHECK(diag.message.find("max_messages") != std::string::npos);
  p.max_messages = 10;
  p.wait_time = std::chrono::seconds(21);
  REQUIRE_FALSE(make_receive_message_request(p, diag));
  CHECK(diag.message.find("wait_time") != std::string::npos);
  p.wait_time = std::nullopt;
  p.endpoint = make_endpoint("ftp", "sqs.us-east-1.amazonaws.com");
  REQUIRE_FALSE(make_receive_message_request(p, diag));
  CHECK(diag.message.find("endpoint") != std::string::npos);
  p.endpoint = make_endpoint("http", "127.0.0.1:4566");
  p.queue_url = "not a url";
  REQUIRE_FALSE(make_receive_message_request(p, diag));
  CHECK(diag.message.find("queue_url") != std::string::npos);
}

TEST_CASE("ReceiveMessage response: messages, attributes, MD5 verified", "[sqs]") {
  Diagnostics diag;
  // MD5("hello") = 5d41402abc4b2a76b9719d911017c592
  auto res = ok(R"({"Messages":[{"MessageId":"m1","ReceiptHandle":"rh1","MD5OfBody":"5d41402abc4b2a76b9719d911017c592",
    "Body":"hello","Attributes":{"ApproximateReceiveCount":"3","SentTimestamp":"1700000000123"},
    "MessageAttributes":{"k":{"DataType":"String","StringValue":"v"}}},
    {"MessageId":"m2","ReceiptHandle":"rh2","Body":"no md5"}]})");
  auto msgs = parse_receive_message_response(res, diag);
  REQUIRE(msgs.has_value());
  REQUIRE(msgs->size() == 2);
  const auto& m = (*msgs)[0];
  CHECK(m.message_id == "m1");
  CHECK(m.receipt_handle == "rh1");
  CHECK(m.body == "hello");
  CHECK(m.receive_count() == 3);
  REQUIRE(m.sent_time());
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(m.sent_time()->time_since_epoch()).count() ==
        1700000000123);
  CHECK(m.message_attributes.at("k") == "v");
  CHECK((*msgs)[1].receive_count() == 0);
  CHECK_FALSE((*msgs)[1].sent_time());
}

TEST_CASE("ReceiveMessage response: a SentTimestamp past year 2262 or negative is no time", "[sqs]") {
  // 17000060000000 ms overflowed the conversion to system_clock (UBSan, found by fuzzing).
  for (const char* bad : {"17000060000000", "9223372036854775807", "-1"}) {
    INFO(bad);
    Message m;
    m.attributes["SentTimestamp"] = bad;
    CHECK_FALSE(m.sent_time());
  }
  Message m;
  m.attributes["SentTimestamp"] = "9223372036854";  // the last millisecond system_clock holds
  REQUIRE(m.sent_time());
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(m.sent_time()->time_since_epoch()).count() ==
        9223372036854);
}

TEST_CASE("ReceiveMessage response: empty forms and a bad MD5", "[sqs]") {
  Diagnostics diag;
  CHECK(parse_receive_message_response(ok("{}"), diag)->empty());
  CHECK(parse_receive_message_response(ok(""), diag)->empty());
  CHECK(parse_receive_message_response(ok(R"({"Messages":[]})"), diag)->empty());
  auto bad = parse_receive_message_response(
      ok(R"({"Messages":[{"MessageId":"m1","ReceiptHandle":"r","MD5OfBody":"00000000000000000000000000000000","Body":"hello"}]})"),
      diag);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error() == aws_errc::checksum_mismatch);
  CHECK(is_retryable_aws_error(bad.error()));
  CHECK(diag.message.find("m1") != std::string::npos);
  auto junk = parse_receive_message_response(ok("<html>proxy</html>"), diag);
  REQUIRE_FALSE(junk.has_value());
  CHECK(junk.error() == aws_errc::malformed_response);
  CHECK(diag.message.find("<html>") != std::string::npos);
  auto missing = parse_receive_message_response(ok(R"({"Messages":[{"MessageId":"m1"}]})"), diag);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error() == aws_errc::malformed_response);
}

TEST_CASE("DeleteMessageBatch: request entries, limits, partial failures", "[sqs]") {
  Diagnostics diag;
  DeleteMessageBatchParams p{.endpoint = make_endpoint("http", "127.0.0.1:4566"), .queue_url = queue,
                             .entries = {{"0", "rh-a"}, {"1", "rh-b"}}};
  auto req = make_delete_message_batch_request(p, diag);
  REQUIRE(req.has_value());
  CHECK(req->scheme == "http");
  CHECK(req->host == "127.0.0.1:4566");
  CHECK(req->find_header("X-Amz-Target")->value == "AmazonSQS.DeleteMessageBatch");
  auto body = json::parse(req->body).as_object();
  CHECK(json::serialize(body.at("Entries")) == R"([{"Id":"0","ReceiptHandle":"rh-a"},{"Id":"1","ReceiptHandle":"rh-b"}])");

  p.entries.assign(11, DeleteEntry{"x", "rh"});
  for (int i = 0; i < 11; ++i) p.entries[static_cast<std::size_t>(i)].id = std::to_string(i);
  CHECK_FALSE(make_delete_message_batch_request(p, diag));
  p.entries = {{"a", "r"}, {"a", "r2"}};
  CHECK_FALSE(make_delete_message_batch_request(p, diag));
  CHECK(diag.message.find("twice") != std::string::npos);
  p.entries = {{"bad id!", "r"}};
  CHECK_FALSE(make_delete_message_batch_request(p, diag));
  p.entries = {};
  CHECK_FALSE(make_delete_message_batch_request(p, diag));

  auto res = parse_delete_message_batch_response(
      ok(R"({"Successful":[{"Id":"0"}],"Failed":[{"Id":"1","Code":"InternalError","Message":"try again","SenderFault":false},
           {"Id":"2","Code":"ReceiptHandleIsInvalid","Message":"expired","SenderFault":true}]})"),
      diag);
  REQUIRE(res.has_value());
  CHECK(res->successful == std::vector<std::string>{"0"});
  REQUIRE(res->failed.size() == 2);
  CHECK(res->failed[0].code == "InternalError");
  CHECK(is_retryable(res->failed[0]));
  CHECK(res->failed[1].sender_fault);
  CHECK_FALSE(is_retryable(res->failed[1]));
}

TEST_CASE("Batch responses that account for no entry are malformed, not all-successful", "[sqs]") {
  // A 2xx answer without Successful and Failed (an empty body from a proxy, a truncated
  // body) says nothing about the entries: reading it as "none failed" would count
  // deletes and visibility extensions that never happened.
  Diagnostics diag;
  for (const char* body : {"", "{}", R"({"Other":1})"}) {
    INFO("body: " << body);
    auto del = parse_delete_message_batch_response(ok(body), diag);
    REQUIRE_FALSE(del.has_value());
    CHECK(del.error() == aws_errc::malformed_response);
    CHECK(diag.message.find("DeleteMessageBatch") != std::string::npos);
    auto vis = parse_change_message_visibility_batch_response(ok(body), diag);
    REQUIRE_FALSE(vis.has_value());
    CHECK(vis.error() == aws_errc::malformed_response);
  }
  // Either list alone (the other omitted, as AWS JSON does for empty lists) is fine.
  auto only_ok = parse_delete_message_batch_response(ok(R"({"Successful":[{"Id":"0"}]})"), diag);
  REQUIRE(only_ok.has_value());
  CHECK(only_ok->successful.size() == 1);
  auto only_failed = parse_delete_message_batch_response(
      ok(R"({"Failed":[{"Id":"0","Code":"InternalError","SenderFault":false}]})"), diag);
  REQUIRE(only_failed.has_value());
  CHECK(only_failed->failed.size() == 1);
}

TEST_CASE("ChangeMessageVisibility single and batch", "[sqs]") {
  Diagnostics diag;
  auto one = make_change_message_visibility_request(
      {.endpoint = endpoint, .queue_url = queue, .entry = {"", "rh", std::chrono::seconds(0)}}, diag);
  REQUIRE(one.has_value());
  CHECK(one->find_header("X-Amz-Target")->value == "AmazonSQS.ChangeMessageVisibility");
  auto body = json::parse(one->body).as_object();
  CHECK(body.at("ReceiptHandle").as_string() == "rh");
  CHECK(body.at("VisibilityTimeout").as_int64() == 0);
  CHECK(parse_change_message_visibility_response(ok(""), diag));
  CHECK_FALSE(make_change_message_visibility_request(
      {.endpoint = endpoint, .queue_url = queue, .entry = {"", "rh", std::chrono::seconds(43201)}}, diag));

  auto batch = make_change_message_visibility_batch_request(
      {.endpoint = endpoint, .queue_url = queue,
       .entries = {{"a", "rh1", std::chrono::seconds(300)}, {"b", "rh2", std::chrono::seconds(0)}}},
      diag);
  REQUIRE(batch.has_value());
  CHECK(json::serialize(json::parse(batch->body).at("Entries")) ==
        R"([{"Id":"a","ReceiptHandle":"rh1","VisibilityTimeout":300},{"Id":"b","ReceiptHandle":"rh2","VisibilityTimeout":0}])");
  auto res = parse_change_message_visibility_batch_response(ok(R"({"Successful":[{"Id":"a"},{"Id":"b"}]})"), diag);
  REQUIRE(res.has_value());
  CHECK(res->successful.size() == 2);
  CHECK(res->failed.empty());
}

TEST_CASE("GetQueueAttributes request and response", "[sqs]") {
  Diagnostics diag;
  auto req = make_get_queue_attributes_request(
      {.endpoint = endpoint, .queue_url = queue, .attribute_names = {"ApproximateNumberOfMessages"}}, diag);
  REQUIRE(req.has_value());
  CHECK(json::serialize(json::parse(req->body).at("AttributeNames")) == R"(["ApproximateNumberOfMessages"])");
  auto attrs = parse_get_queue_attributes_response(
      ok(R"({"Attributes":{"ApproximateNumberOfMessages":"4","QueueArn":"arn:aws:sqs:us-east-1:1:q"}})"), diag);
  REQUIRE(attrs.has_value());
  CHECK(attrs->at("ApproximateNumberOfMessages") == "4");
}

TEST_CASE("SQS JSON errors map to aws_errc with Diagnostics", "[sqs]") {
  Diagnostics diag;
  HttpResponse res{400,
                   {{"x-amzn-RequestId", "66916324"},
                    {"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}},
                   R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})"};
  auto ec = parse_error(res, diag);
  CHECK(ec == aws_errc::queue_does_not_exist);
  CHECK(diag.aws_code == "QueueDoesNotExist");
  CHECK(diag.request_id == "66916324");
  CHECK(diag.http_status == 400);
  CHECK(diag.message.find("does not exist") != std::string::npos);
  CHECK_FALSE(is_retryable_aws_error(ec));

  // Failure of a whole call goes through the operation's parser too.
  auto r = parse_receive_message_response(res, diag);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == aws_errc::queue_does_not_exist);

  // Only the legacy header.
  HttpResponse legacy{400, {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}}, ""};
  CHECK(parse_error(legacy, diag) == aws_errc::queue_does_not_exist);

  // Throttling and 5xx are retryable; a non-JSON 502 from a proxy is quoted.
  HttpResponse thr{400, {}, R"({"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"})"};
  CHECK(parse_error(thr, diag) == aws_errc::throttling);
  CHECK(diag.aws_code == "ThrottlingException");
  HttpResponse proxy{502, {}, "<html>Bad Gateway</html>"};
  auto pe = parse_error(proxy, diag);
  CHECK(pe == aws_errc::internal_error);
  CHECK(is_retryable_aws_error(pe));
  CHECK(diag.message.find("Bad Gateway") != std::string::npos);
  HttpResponse expired{403, {}, R"({"__type":"com.amazon.coral.service#SignatureDoesNotMatch","message":"Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z"})"};
  CHECK(parse_error(expired, diag) == aws_errc::clock_skew);
  HttpResponse denied{400, {}, R"({"__type":"com.amazon.coral.service#AccessDeniedException","Message":"no"})"};
  CHECK(parse_error(denied, diag) == aws_errc::access_denied);
  CHECK(diag.message == "no");
}

TEST_CASE("SQS recorded responses from the shared test data", "[sqs][shared]") {
  if (!test::has_shared_testdata()) {
    WARN("shared test data absent: skipped");
    return;
  }
  auto dir = test::shared_testdata_dir() / "notifications";
  Diagnostics diag;
  auto err = parse_http_file(read(dir / "sqs-api/json-ErrorResponse-NonExistentQueue.http"));
  CHECK(err.status == 400);
  CHECK(parse_error(err, diag) == aws_errc::queue_does_not_exist);
  CHECK(diag.request_id == "66916324-67ca-54bb-a410-3f567a7a0571");

  auto full = parse_receive_message_response(ok(read(dir / "derived/json-ReceiveMessage-response.json")), diag);
  INFO(diag);
  REQUIRE(full.has_value());
  CHECK_FALSE(full->empty());
  for (const auto& m : *full) {
    CHECK_FALSE(m.receipt_handle.empty());
    CHECK(m.receive_count() >= 1);
  }
  CHECK(parse_receive_message_response(ok(read(dir / "derived/json-ReceiveMessage-empty.json")), diag)->empty());
}
