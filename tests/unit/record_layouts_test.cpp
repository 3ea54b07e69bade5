// Unit tests for the decoder's stream layouts (RecordLayout): GuardDuty exports (JSON lines),
// EventBridge events delivered by Firehose, and CloudWatch Logs subscription messages carrying
// CloudTrail records. Samples are written here after AWS's documented shapes.
#include "ctsqs/decode/cloudtrail_decoder.hpp"

#include "catch.hpp"
#include "aws_samples.hpp"
#include "gzip_helper.hpp"

#include <string>
#include <vector>

namespace {
ctsqs::Diagnostics scratch;  // the detail of calls whose message is not checked
}  // namespace

using namespace ctsqs;
using ctsqs::test::gzip;
using namespace ctsqs::test::samples;

namespace {

struct Out {
  std::vector<Event> events;
  result<ObjectSummary> summary = make_error_code(client_errc::invalid_argument);
  Diagnostics diag;
};

Out run(RecordLayout layout, std::string_view data, std::size_t chunk = 0, std::size_t gather = 4 << 20,
        std::string_view name = "AWSLogs/123456789012/GuardDuty/eu-west-1/2026/12/03/x.jsonl.gz") {
  DecoderOptions o;
  o.layout = layout;
  o.gather_bytes = gather;
  CloudTrailDecoder d(o);
  Out out;
  auto h = [&](Event& e) { out.events.push_back(e); };
  d.begin(name);
  if (chunk == 0) chunk = data.size() + 1;
  for (std::size_t i = 0; i < data.size(); i += chunk) {
    if (auto r = d.feed(data.substr(i, chunk), h, out.diag); !r) {
      out.summary = r.error();
      return out;
    }
  }
  out.summary = d.finish(h, out.diag);
  return out;
}

std::string without_offset(std::string m) {
  const auto at = m.find(" near uncompressed byte ");
  if (at == std::string::npos) return m;
  auto end = m.find_first_not_of("0123456789", at + 24);
  return m.erase(at, (end == std::string::npos ? m.size() : end) - at);
}

// Every chunking and both gzip paths give the same events and the same error.
Out run_all_ways(RecordLayout layout, const std::string& data) {
  Out whole = run(layout, data);
  for (std::size_t chunk : {1, 7, 4096}) {
    for (std::size_t gather : {std::size_t{0}, std::size_t{4} << 20}) {
      Out o = run(layout, data, chunk, gather);
      CHECK(static_cast<bool>(o.summary) == static_cast<bool>(whole.summary));
      // "near uncompressed byte N" is where the parser last noted a position: chunk-dependent.
      CHECK(without_offset(o.diag.message) == without_offset(whole.diag.message));
      REQUIRE(o.events.size() == whole.events.size());
      for (std::size_t i = 0; i < o.events.size(); ++i) {
        CHECK(o.events[i].record == whole.events[i].record);
        CHECK(o.events[i].columns == whole.events[i].columns);
      }
    }
  }
  return whole;
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("layouts: GuardDuty export lines become one flattened event per finding") {
  const std::string lines = finding(1) + "\n" + finding(2) + "\r\n\n" + finding(3) + "\n";
  for (const std::string& data : {lines, gzip(lines), gzip(finding(1) + "\n") + gzip(finding(2) + "\n" + finding(3))}) {
    Out o = run_all_ways(RecordLayout::json_values, data);
    REQUIRE(o.summary);
    REQUIRE(o.events.size() == 3);
    CHECK(o.summary->events == 3);
    const Event& e = o.events[1];
    CHECK(e.record == finding(2));  // compact input stays byte for byte
    CHECK(has(e.columns, R"("service_action_awsApiCallAction_api":"DescribeInstances")"));
    CHECK(has(e.columns, R"("resource_instanceDetails_instanceId":"i-00000002")"));
    CHECK(has(e.columns, R"("resource_instanceDetails_networkInterfaces":"[{\"privateIpAddress\":\"10.0.0.2\"}]")"));
    CHECK(has(e.columns, R"("severity":5.3)"));
    CHECK(e.recipient_account == "123456789012");
    CHECK(e.aws_region == "eu-west-1");
    CHECK(e.event_source.empty());
  }
}

TEST_CASE("layouts: concatenated values without newlines, a BOM, and blank input") {
  Out o = run_all_ways(RecordLayout::json_values, "\xEF\xBB\xBF" + finding(1) + finding(2) + " " + finding(3));
  REQUIRE(o.summary);
  CHECK(o.events.size() == 3);
  Out blank = run(RecordLayout::json_values, gzip(" \n\n"));
  REQUIRE(blank.summary);
  CHECK(blank.summary->skipped == SkipReason::empty);
  CHECK(blank.events.empty());
}

TEST_CASE("layouts: bad JSON lines are named by value index and offset") {
  SECTION("a value that is not an object") {
    Out o = run_all_ways(RecordLayout::json_values, finding(1) + "\n[1,2]\n" + finding(3));
    REQUIRE_FALSE(o.summary);
    CHECK(o.summary.error() == decode_errc::not_an_object);
    CHECK(has(o.diag.message, "value index 1 is not a JSON object"));
    CHECK(has(o.diag.message, "1 event from this object was already emitted"));
    CHECK(o.events.size() == 1);
  }
  SECTION("a scalar value") {
    Out o = run(RecordLayout::json_values, finding(1) + "\n42\n");
    REQUIRE_FALSE(o.summary);
    CHECK(o.summary.error() == decode_errc::not_an_object);
    CHECK(has(o.diag.message, "value index 1"));
  }
  SECTION("a cut last line") {
    const std::string full = finding(1) + "\n" + finding(2);
    Out o = run_all_ways(RecordLayout::json_values, full.substr(0, full.size() - 20));
    REQUIRE_FALSE(o.summary);
    CHECK(o.summary.error() == decode_errc::truncated_json);
    CHECK(has(o.diag.message, "ends inside value index 1"));
    CHECK(o.events.size() == 1);
  }
  SECTION("a syntax error") {
    Out o = run(RecordLayout::json_values, finding(1) + "\n{\"a\":tru}\n");
    REQUIRE_FALSE(o.summary);
    CHECK(o.summary.error() == decode_errc::invalid_json);
    CHECK(has(o.diag.message, "(value index 1)"));
  }
  SECTION("a finding over the record cap") {
    DecoderOptions opt;
    opt.layout = RecordLayout::json_values;
    opt.max_record_bytes = 500;
    CloudTrailDecoder d(opt);
    Diagnostics diag;
    std::size_t n = 0;
    auto r = d.decode_buffer("x.jsonl", finding(1) + "\n", [&](Event&) { ++n; }, diag);
    REQUIRE_FALSE(r);
    CHECK(r.error() == decode_errc::record_too_large);
    CHECK(n == 0);
  }
}

TEST_CASE("layouts: EventBridge events from Firehose give their detail") {
  const std::string a = eventbridge(finding(1), 1), b = eventbridge(finding(2), 2);
  for (const std::string& data : {a + b, a + "\n" + b + "\n", gzip(a) + gzip(b)}) {
    Out o = run_all_ways(RecordLayout::eventbridge_events, data);
    REQUIRE(o.summary);
    REQUIRE(o.events.size() == 2);
    CHECK(o.events[0].record == finding(1));
    CHECK(o.events[1].record == finding(2));
    CHECK(has(o.events[1].columns, R"("resource_instanceDetails_instanceId":"i-00000002")"));
    CHECK_FALSE(has(o.events[1].columns, "detail-type"));
  }
  SECTION("an event without detail") {
    Out o = run_all_ways(RecordLayout::eventbridge_events, a + R"({"version":"0","source":"aws.guardduty"})");
    REQUIRE_FALSE(o.summary);
    CHECK(o.summary.error() == decode_errc::records_missing);
    CHECK(has(o.diag.message, "the EventBridge event (value index 1) has no detail member"));
    CHECK(o.events.size() == 1);
  }
  SECTION("a detail that is not an object") {
    for (const char* detail : {"\"text\"", "[1]", "7"}) {
      Out o = run(RecordLayout::eventbridge_events, eventbridge(detail, 1));
      REQUIRE_FALSE(o.summary);
      CHECK(o.summary.error() == decode_errc::record_not_object);
      CHECK(has(o.diag.message, "the detail of the EventBridge event (value index 0) is not an object"));
    }
  }
}

TEST_CASE("layouts: CloudWatch Logs messages carry CloudTrail records as text") {
  const std::string control = cwl_message({"CWL CONTROL MESSAGE: Checking health of destination Firehose."},
                                          "CONTROL_MESSAGE");
  const std::string data1 = cwl_message({ct_record(1), ct_record(2)});
  const std::string data2 = cwl_message({ct_record(3)});
  for (const std::string& data : {control + data1 + data2, gzip(control) + gzip(data1 + "\n" + data2)}) {
    Out o = run_all_ways(RecordLayout::cloudwatch_logs, data);
    REQUIRE(o.summary);
    REQUIRE(o.events.size() == 3);
    CHECK(o.events[0].record == ct_record(1));
    CHECK(o.events[2].record == ct_record(3));
    CHECK(o.events[2].event_source == "s3.amazonaws.com");
    CHECK(o.events[2].recipient_account == "123456789012");
    CHECK(has(o.events[0].columns, R"("userIdentity_principalId":"AROAEXAMPLE:s1")"));
    CHECK(has(o.events[0].columns, R"("requestParameters_Host":"b.s3.amazonaws.com")"));
    CHECK(has(o.events[0].columns, R"("resources":"[{\"type\":\"AWS::S3::Object\"}]")"));
  }
  SECTION("messageType after logEvents") {
    std::string late = R"({"logEvents":[{"id":"1","timestamp":1,"message":)" + quoted(ct_record(1)) +
                       R"(}],"messageType":"DATA_MESSAGE"})";
    std::string late_control = R"({"logEvents":[{"id":"1","timestamp":1,"message":"CWL CONTROL MESSAGE"}],"messageType":"CONTROL_MESSAGE"})";
    Out o = run_all_ways(RecordLayout::cloudwatch_logs, late_control + late);
    REQUIRE(o.summary);
    REQUIRE(o.events.size() == 1);
    CHECK(o.events[0].record == ct_record(1));
  }
  SECTION("records one per line (Firehose message extraction on)") {
    Out o = run_all_ways(RecordLayout::cloudwatch_logs, ct_record(1) + "\n" + ct_record(2) + "\n" + data2);
    REQUIRE(o.summary);
    REQUIRE(o.events.size() == 3);
    CHECK(o.events[1].record == ct_record(2));
    CHECK(o.events[2].record == ct_record(3));
  }
  SECTION("a message that is not JSON") {
    Out o = run_all_ways(RecordLayout::cloudwatch_logs, data1 + cwl_message({ct_record(4), "plain text line"}));
    REQUIRE_FALSE(o.summary);
    CHECK(o.summary.error() == decode_errc::invalid_json);
    CHECK(has(o.diag.message,
              "logEvents index 1 of the CloudWatch Logs message (value index 1): the message is not one record as JSON"));
    CHECK(has(o.diag.message, "message starts \"plain text line\""));
    CHECK(o.events.size() == 3);
  }
  SECTION("a message with two values, a cut one, an array") {
    for (auto [text, code] : std::vector<std::pair<std::string, decode_errc>>{
             {ct_record(1) + ct_record(2), decode_errc::invalid_json},
             {ct_record(1).substr(0, 30), decode_errc::truncated_json},
             {"[1,2]", decode_errc::not_an_object}}) {
      Out o = run(RecordLayout::cloudwatch_logs, cwl_message({text}));
      REQUIRE_FALSE(o.summary);
      CHECK(o.summary.error() == code);
      CHECK(has(o.diag.message, "logEvents index 0 of the CloudWatch Logs message (value index 0)"));
    }
  }
  SECTION("logEvents or a message of the wrong type") {
    Out a = run(RecordLayout::cloudwatch_logs, R"({"messageType":"DATA_MESSAGE","logEvents":{}})");
    REQUIRE_FALSE(a.summary);
    CHECK(has(a.diag.message, "logEvents of the CloudWatch Logs message (value index 0) is not an array"));
    Out b = run(RecordLayout::cloudwatch_logs, R"({"messageType":"DATA_MESSAGE","logEvents":[{"message":{"a":1}}]})");
    REQUIRE_FALSE(b.summary);
    CHECK(has(b.diag.message, "logEvents index 0 of the CloudWatch Logs message (value index 0): message is not a string"));
    Out c = run(RecordLayout::cloudwatch_logs, R"({"messageType":"DATA_MESSAGE","logEvents":[5]})");
    REQUIRE_FALSE(c.summary);
    CHECK(has(c.diag.message, "logEvents index 0 of the CloudWatch Logs message (value index 0) is not an object"));
  }
  SECTION("a message without logEvents, a log event without message") {
    Out a = run(RecordLayout::cloudwatch_logs, R"({"messageType":"DATA_MESSAGE","owner":"1"})");
    REQUIRE_FALSE(a.summary);
    CHECK(a.summary.error() == decode_errc::records_missing);
    CHECK(has(a.diag.message, "the CloudWatch Logs message (value index 0) has no logEvents member"));
    Out b = run(RecordLayout::cloudwatch_logs, R"({"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1}]})");
    REQUIRE_FALSE(b.summary);
    CHECK(has(b.diag.message, "logEvents index 0 of the CloudWatch Logs message (value index 0) has no message"));
  }
  SECTION("messages before messageType are held within the record cap") {
    DecoderOptions opt;
    opt.layout = RecordLayout::cloudwatch_logs;
    opt.max_record_bytes = 1000;
    std::string late = R"({"logEvents":[)";
    for (int i = 0; i < 8; ++i) late += std::string(i ? "," : "") + R"({"message":)" + quoted(ct_record(i)) + "}";
    late += R"(],"messageType":"DATA_MESSAGE"})";
    CloudTrailDecoder d(opt);
    Diagnostics diag;
    std::size_t n = 0;
    auto r = d.decode_buffer("x", late, [&](Event&) { ++n; }, diag);
    REQUIRE_FALSE(r);
    CHECK(r.error() == decode_errc::record_too_large);
    CHECK(has(diag.message, "before its messageType exceed 1000 bytes"));
    CHECK(n == 0);
  }
  SECTION("a message over the record cap") {
    DecoderOptions opt;
    opt.layout = RecordLayout::cloudwatch_logs;
    opt.max_record_bytes = 100;
    CloudTrailDecoder d(opt);
    Diagnostics diag;
    auto r = d.decode_buffer("firehose/x", data1, [](Event&) {}, diag);
    REQUIRE_FALSE(r);
    CHECK(r.error() == decode_errc::record_too_large);
    CHECK(has(diag.message, "logEvents index 0"));
  }
}

TEST_CASE("layouts: a handler that throws leaves the decoder usable for the next object") {
  DecoderOptions opt;
  opt.layout = RecordLayout::cloudwatch_logs;
  CloudTrailDecoder d(opt);
  const std::string data = cwl_message({ct_record(1), ct_record(2)});
  int n = 0;
  CHECK_THROWS(d.decode_buffer("a", data, [&](Event&) {
    if (++n == 2) throw std::runtime_error("sink full");
  }, scratch));
  CHECK(d.summary().events == 2);  // the summary counts what the handler was given
  std::vector<std::string> got;
  auto r = d.decode_buffer("b", data, [&](Event& e) { got.push_back(e.record); }, scratch);
  REQUIRE(r);
  CHECK(got == std::vector<std::string>{ct_record(1), ct_record(2)});
}
