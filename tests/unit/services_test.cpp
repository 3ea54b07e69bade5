// Unit tests of the built-in GuardDuty and Firehose services: each format through its handler's
// payload decoder (tags, filters, inline EventBridge findings), content recognition across all
// four, and the four on one ServiceRouter as a collector file would configure them.
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/decode/service_router.hpp"

#include "aws_samples.hpp"
#include "catch.hpp"
#include "gzip_helper.hpp"

using namespace ctsqs;
using namespace ctsqs::test::samples;
using ctsqs::test::gzip;

namespace {

ConfiguredService configured(std::string_view name, ClaimRule extra = {}) {
  auto h = ServiceHandlerRegistry::builtin().find(name);
  REQUIRE(h);
  ServiceSettings s;
  s.name = s.configured_name = std::string(h->name());
  s.routing_template = std::string(h->default_routing_template());
  s.claim = h->default_claim_rule();
  for (auto& p : extra.key_prefixes) s.claim.key_prefixes.push_back(p);
  return {h, s};
}

struct Decoded {
  result<void> r;
  std::vector<Event> events;
  Diagnostics diag;
  SkipReason skipped = SkipReason::none;
};

Decoded decode(PayloadDecoder& dec, std::string_view name, std::string_view bytes, std::size_t chunk = 5) {
  Decoded d;
  dec.begin(name);
  for (std::size_t i = 0; i < bytes.size() && d.r; i += chunk) d.r = dec.feed(bytes.substr(i, chunk), d.events, d.diag);
  if (d.r) d.r = dec.finish(d.events, d.diag);
  d.skipped = dec.skipped();
  return d;
}

std::unique_ptr<PayloadDecoder> decoder(const ConfiguredService& s) {
  Diagnostics diag;
  return s.handler->make_payload_decoder(s.settings, DecoderOptions{}, diag).value();
}

// What check() says about `s` ("" when it passes).
std::string check_message(const ConfiguredService& s, std::string_view path) {
  Diagnostics diag;
  if (auto r = s.handler->check(s.settings, path, diag); r) return {};
  return diag.message.empty() ? "(failed without a message)" : diag.message;
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

const std::string kExport = finding(1) + "\n" + finding(2) + "\n";
const std::string kGuardDutyKey = "AWSLogs/123456789012/GuardDuty/eu-west-1/2026/12/03/5e1a.jsonl.gz";

}  // namespace

TEST_CASE("services: aws_sqs_guard_duty decodes exports and EventBridge findings", "[services]") {
  auto gd = configured("aws_sqs_guard_duty");
  auto dec = decoder(gd);
  Decoded d = decode(*dec, kGuardDutyKey, gzip(kExport));
  REQUIRE(d.r);
  REQUIRE(d.events.size() == 2);
  for (auto& e : d.events) CHECK(e.tag == "cloud.aws.guardduty.findings");
  CHECK(d.events[0].record == finding(1));
  CHECK(has(d.events[1].columns, R"("service_action_awsApiCallAction_api":"DescribeInstances")"));

  // An EventBridge "GuardDuty Finding" on the queue reaches the decoder as {"Records":[detail]}.
  Decoded inl = decode(*dec, "", R"({"Records":[)" + finding(7) + "]}");
  REQUIRE(inl.r);
  REQUIRE(inl.events.size() == 1);
  CHECK(inl.events[0].record == finding(7));
  CHECK(inl.events[0].tag == "cloud.aws.guardduty.findings");

  // The same decoder takes the next object in its own layout again.
  Decoded again = decode(*dec, kGuardDutyKey, kExport);
  REQUIRE(again.r);
  CHECK(again.events.size() == 2);

  // Every JSON object on a line is one event (findings are not checked member by member); what is
  // not a JSON object, or is a CloudTrail log file, is a named error.
  Decoded other = decode(*dec, kGuardDutyKey, R"({"Records":[{"eventVersion":"1.08"}]})");
  REQUIRE_FALSE(other.r);
  CHECK(has(other.diag.message, "value index 0 is a CloudTrail log file"));
  CHECK(other.events.empty());
  Decoded wrong = decode(*dec, kGuardDutyKey, finding(1) + "\nnot json\n");
  REQUIRE_FALSE(wrong.r);
  CHECK(has(wrong.diag.message, kGuardDutyKey + ": invalid JSON"));
  CHECK(has(wrong.diag.message, "(value index 1)"));
}

TEST_CASE("services: GuardDuty routing templates take {account} and {region}, not aws_services", "[services]") {
  auto gd = configured("aws_sqs_guard_duty");
  gd.settings.routing_template = "cloud.aws.guardduty.{account}.{region}";
  CHECK(check_message(gd, "services.aws_sqs_guard_duty").empty());
  Decoded d = decode(*decoder(gd), kGuardDutyKey, kExport);
  REQUIRE(d.r);
  CHECK(d.events[0].tag == "cloud.aws.guardduty.123456789012.eu-west-1");

  gd.settings.routing_template = "cloud.aws.guardduty.{service}";
  CHECK(has(check_message(gd, "services.aws_sqs_guard_duty"),
            "services.aws_sqs_guard_duty.routing_template: unknown placeholder {service}"));
  gd.settings.routing_template = "cloud.aws.guardduty.findings";
  gd.settings.aws_services = {"ec2"};
  CHECK(has(check_message(gd, "services.aws_sqs_guard_duty"), "(GuardDuty findings) have none"));
  Diagnostics diag;
  auto refused = gd.handler->make_payload_decoder(gd.settings, DecoderOptions{}, diag);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error() == client_errc::invalid_argument);
  CHECK(has(diag.message, "(GuardDuty findings) have none"));
}

TEST_CASE("services: aws_sqs_guard_duty_kinesis takes each EventBridge event's detail", "[services]") {
  auto gk = configured("aws_sqs_guard_duty_kinesis");
  const std::string firehose = gzip(eventbridge(finding(1), 1) + eventbridge(finding(2), 2)) +
                               gzip(eventbridge(finding(3), 3) + "\n");
  Decoded d = decode(*decoder(gk), "guardduty/2026/12/03/10/stream-1-2026-12-03-10-00-00-uuid.gz", firehose);
  REQUIRE(d.r);
  REQUIRE(d.events.size() == 3);
  CHECK(d.events[2].record == finding(3));
  CHECK(d.events[2].tag == "cloud.aws.guardduty.findings");
}

TEST_CASE("services: aws_sqs_cloudtrail_kinesis tags and filters like aws_sqs_cloudtrail", "[services]") {
  auto ck = configured("aws_sqs_cloudtrail_kinesis");
  const std::string iam = R"({"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"CreateUser"})";
  const std::string insight =
      R"({"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventType":"AwsCloudTrailInsight"})";
  const std::string objects = gzip(cwl_message({"CWL CONTROL MESSAGE: Checking health"}, "CONTROL_MESSAGE")) +
                              gzip(cwl_message({ct_record(1), iam, insight}));
  Decoded all = decode(*decoder(ck), "ct/2026/12/03/x.gz", objects);
  REQUIRE(all.r);
  REQUIRE(all.events.size() == 3);
  CHECK(all.events[0].tag == "cloud.aws.cloudtrail.s3");
  CHECK(all.events[1].tag == "cloud.aws.cloudtrail.iam");
  CHECK(all.events[2].tag == "cloud.aws.cloudtrail.insights");

  ck.settings.aws_services = {"iam"};
  auto dec = decoder(ck);
  Decoded only_iam = decode(*dec, "ct/2026/12/03/x.gz", objects);
  REQUIRE(only_iam.r);
  REQUIRE(only_iam.events.size() == 1);
  CHECK(only_iam.events[0].tag == "cloud.aws.cloudtrail.iam");
  CHECK(dec->filtered() == 2);
}

TEST_CASE("services: each service recognises its own format and no other", "[services]") {
  const std::vector<std::pair<std::string, std::string>> heads = {
      {"aws_sqs_cloudtrail", R"({"Records":[)" + ct_record(1) + "]}"},
      {"aws_sqs_cloudtrail_kinesis", cwl_message({ct_record(1)})},
      {"aws_sqs_cloudtrail_kinesis", ct_record(1) + "\n"},
      {"aws_sqs_guard_duty", finding(1) + "\n"},
      {"aws_sqs_guard_duty_kinesis", eventbridge(finding(1), 1)},
  };
  const auto& reg = ServiceHandlerRegistry::builtin();
  for (auto& [owner, head] : heads) {
    for (auto& name : reg.names()) {
      INFO(owner << " sample, asking " << name);
      CHECK(reg.find(name)->recognizes(head) == (name == owner));
    }
  }
  // An EventBridge event from another source is not a GuardDuty one.
  std::string other = eventbridge(R"({"x":1})", 1);
  other.replace(other.find("aws.guardduty"), 13, "aws.securityhub");
  CHECK_FALSE(reg.find("aws_sqs_guard_duty_kinesis")->recognizes(other));
}

TEST_CASE("services: four services on one router, as one collector file configures them", "[services]") {
  ClaimRule ct_prefix, gd_prefix;
  ct_prefix.key_prefixes = {"firehose/cloudtrail/"};
  gd_prefix.key_prefixes = {"firehose/guardduty/"};
  Diagnostics made_diag;
  auto made = ServiceRouter::create({configured("aws_sqs_cloudtrail"), configured("aws_sqs_guard_duty"),
                                     configured("aws_sqs_cloudtrail_kinesis", ct_prefix),
                                     configured("aws_sqs_guard_duty_kinesis", gd_prefix)},
                                    DecoderOptions{}, made_diag);
  REQUIRE(made.has_value());
  auto router = *made;
  auto run = [&](std::string key, std::string_view source, std::string bytes) {
    ObjectRef o;
    o.bucket = "b";
    o.key = std::move(key);
    auto dec = router->make_factory()(o, source);
    Decoded d;
    for (std::size_t i = 0; i < bytes.size() && d.r; i += 3) d.r = dec->feed(std::string_view(bytes).substr(i, 3), d.events, d.diag);
    if (d.r) d.r = dec->finish(d.events, d.diag);
    return d;
  };
  // By key layout.
  auto ct = run("AWSLogs/123456789012/CloudTrail/eu-west-1/2026/12/03/x.json.gz", "",
                gzip(R"({"Records":[)" + ct_record(1) + "]}"));
  REQUIRE(ct.r);
  CHECK(ct.events.at(0).tag == "cloud.aws.cloudtrail.s3");
  auto gd = run(kGuardDutyKey, "", gzip(kExport));
  REQUIRE(gd.r);
  CHECK(gd.events.size() == 2);
  // By configured Firehose prefix.
  auto ck = run("firehose/cloudtrail/2026/12/03/10/x.gz", "", gzip(cwl_message({ct_record(1), ct_record(2)})));
  REQUIRE(ck.r);
  CHECK(ck.events.size() == 2);
  auto gk = run("firehose/guardduty/2026/12/03/10/x.gz", "", gzip(eventbridge(finding(1), 1)));
  REQUIRE(gk.r);
  CHECK(gk.events.at(0).tag == "cloud.aws.guardduty.findings");
  // By content, when no key rule matches.
  auto by_content = run("elsewhere/x.gz", "", gzip(eventbridge(finding(2), 2) + eventbridge(finding(3), 3)));
  REQUIRE(by_content.r);
  CHECK(by_content.events.size() == 2);
  // By EventBridge source, for events carried in messages.
  auto inl = run("", "aws.guardduty", R"({"Records":[)" + finding(4) + "]}");
  REQUIRE(inl.r);
  CHECK(inl.events.at(0).record == finding(4));
  // Nothing claims it: a named failure.
  auto none = run("elsewhere/y.gz", "", gzip("just text\n"));
  REQUIRE_FALSE(none.r);
  CHECK(has(none.diag.message, "no service claims object elsewhere/y.gz by its key or content"));
  CHECK(has(none.diag.message, "aws_sqs_guard_duty: key contains /GuardDuty/; EventBridge source aws.guardduty; else content"));

  auto counts = router->counts();
  REQUIRE(counts.size() == 4);
  CHECK(counts[0].objects == 1);
  CHECK(counts[1].objects == 2);  // the export and the inline finding
  CHECK(counts[1].events == 3);
  CHECK(counts[2].events == 2);
  CHECK(counts[3].objects == 2);
  CHECK(counts[3].events == 3);
}

TEST_CASE("services: a single-service decoder factory reads objects and events carried in messages", "[services]") {
  auto gd = configured("aws_sqs_guard_duty");
  Diagnostics diag;
  auto made = make_payload_decoder_factory(gd.handler, gd.settings, DecoderOptions{}, diag);
  REQUIRE(made.has_value());
  auto& factory = *made;
  std::vector<Event> out;
  auto inl = factory(ObjectRef{}, "aws.guardduty");  // begun on no key: {"Records":[...]} of the message
  REQUIRE(inl->feed(R"({"Records":[)" + finding(5) + "]}", out, diag));
  REQUIRE(inl->finish(out, diag));
  ObjectRef o;
  o.bucket = "b";
  o.key = kGuardDutyKey;
  auto obj = factory(o, "");
  REQUIRE(obj->feed(gzip(kExport), out, diag));
  REQUIRE(obj->finish(out, diag));
  REQUIRE(out.size() == 3);
  CHECK(out[0].record == finding(5));
  CHECK(out[2].record == finding(2));
}
