// Unit tests of the service handler registry and the CloudTrail handler, including a custom
// handler plugged in from outside (the way Devo's other SQS services would be added).
#include "ctsqs/decode/service_handler.hpp"

#include "ctsqs/collector/collector.hpp"
#include "ctsqs/collector/config.hpp"

#include "catch.hpp"

#include <algorithm>
#include <stdexcept>

using namespace ctsqs;

namespace {

/// A service defined only in this test (lines of JSON with a severity option): it proves a new
/// service needs no change to the parser or the registry.
class ExampleHandler final : public ServiceHandler {
 public:
  std::string_view name() const override { return "aws_sqs_example_lines"; }
  std::vector<std::string> aliases() const override { return {"example", "example_lines"}; }
  std::string_view description() const override { return "example lines"; }
  std::string_view default_routing_template() const override { return "cloud.aws.example.lines"; }
  result<ServiceSettings> parse_options(ServiceOptions& o, Diagnostics& diag) const override {
    ServiceSettings s;
    s.routing_template = std::string(default_routing_template());
    auto t = o.get_string("routing_template", diag);
    if (!t) return t.error();
    if (*t) s.routing_template = **t;
    auto sev = o.get_int("min_severity", diag);
    if (!sev) return sev.error();
    if (*sev) min_severity_seen = **sev;
    return s;
  }
  result<void> check(const ServiceSettings& s, std::string_view path, Diagnostics& diag) const override {
    if (!s.routing_template.empty()) return {};
    diag.message = std::string(path) + ".routing_template: empty";
    return make_error_code(client_errc::invalid_argument);
  }
  /// One finding per line, tagged with the routing template as is.
  class LineDecoder final : public PayloadDecoder {
   public:
    explicit LineDecoder(std::string tag) : tag_(std::move(tag)) {}
    void begin(std::string_view) override { pending_.clear(); }
    result<void> feed(std::string_view chunk, std::vector<Event>& out, Diagnostics&) override {
      pending_ += chunk;
      for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n')) {
        emit(pending_.substr(0, nl), out);
        pending_.erase(0, nl + 1);
      }
      return {};
    }
    result<void> finish(std::vector<Event>& out, Diagnostics&) override {
      if (!pending_.empty()) emit(pending_, out);
      pending_.clear();
      return {};
    }

   private:
    void emit(std::string line, std::vector<Event>& out) {
      Event e;
      e.tag = tag_;
      e.record = std::move(line);
      out.push_back(std::move(e));
    }
    std::string tag_;
    std::string pending_;
  };
  result<std::unique_ptr<PayloadDecoder>> make_payload_decoder(const ServiceSettings& s, const DecoderOptions&,
                                                               Diagnostics&) const override {
    return std::unique_ptr<PayloadDecoder>(std::make_unique<LineDecoder>(s.routing_template));
  }
  mutable std::int64_t min_severity_seen = -1;
};

}  // namespace

TEST_CASE("the builtin registry knows the four services and their aliases", "[service_handler]") {
  const auto& reg = ServiceHandlerRegistry::builtin();
  auto h = reg.find("aws_sqs_cloudtrail");
  REQUIRE(h);
  CHECK(reg.find("cloudtrail") == h);
  CHECK(reg.find("CloudTrail") == nullptr);  // names are exact, as in Devo's templates
  CHECK(reg.find("aws_sqs_vpcflow") == nullptr);
  CHECK(h->default_routing_template() == "cloud.aws.cloudtrail.{service}");
  CHECK(reg.names() == std::vector<std::string>{"aws_sqs_cloudtrail", "aws_sqs_cloudtrail_kinesis",
                                                "aws_sqs_guard_duty", "aws_sqs_guard_duty_kinesis"});
  CHECK(reg.find("guardduty") == reg.find("aws_sqs_guard_duty"));
  CHECK(reg.find("aws_sqs_guard_duty")->default_routing_template() == "cloud.aws.guardduty.findings");
  CHECK(reg.describe_known() ==
        "aws_sqs_cloudtrail (alias cloudtrail), aws_sqs_cloudtrail_kinesis (alias cloudtrail_kinesis), "
        "aws_sqs_guard_duty (aliases guardduty, guard_duty), aws_sqs_guard_duty_kinesis (aliases "
        "guardduty_kinesis, guard_duty_kinesis)");
}

TEST_CASE("registering a clashing name fails and names it", "[service_handler]") {
  ServiceHandlerRegistry reg;
  Diagnostics d;
  REQUIRE(reg.add(make_cloudtrail_service_handler(), d).has_value());
  auto r = reg.add(make_cloudtrail_service_handler(), d);
  CHECK_FALSE(r.has_value());
  CHECK(d.message.find("'aws_sqs_cloudtrail'") != std::string::npos);
  CHECK_FALSE(reg.add(nullptr, d).has_value());
}

TEST_CASE("a new service plugs in through a registry, parser untouched", "[service_handler]") {
  ServiceHandlerRegistry reg;
  Diagnostics d;
  REQUIRE(reg.add(make_cloudtrail_service_handler(), d).has_value());
  auto gd = std::make_shared<ExampleHandler>();
  REQUIRE(reg.add(gd, d).has_value());
  CHECK(reg.describe_known() ==
        "aws_sqs_cloudtrail (alias cloudtrail), aws_sqs_example_lines (aliases example, example_lines)");

  ConfigParseOptions opts;
  opts.registry = &reg;
  auto c = parse_collector_config(
      R"({"inputs":{"sqs_collector":{"id":"1","services":{"example":{"min_severity":4,"extra":1},"aws_sqs_cloudtrail":{}},)"
      R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
      "gd.json", d, opts);
  INFO(d.message);
  REQUIRE(c.has_value());
  REQUIRE(c->services.size() == 2);
  CHECK(c->services[0].name == "aws_sqs_example_lines");
  CHECK(c->services[0].configured_name == "example");
  CHECK(c->services[0].routing_template == "cloud.aws.example.lines");
  CHECK(gd->min_severity_seen == 4);
  // The pipeline drives any service's payloads the same way.
  auto made = reg.find("example")->make_payload_decoder(c->services[0], DecoderOptions{}, d);
  REQUIRE(made.has_value());
  auto& dec = *made;
  std::vector<Event> events;
  dec->begin("findings.jsonl");
  REQUIRE(dec->feed("{\"id\":1}\n{\"id\"", events, d).has_value());
  REQUIRE(dec->feed(":2}", events, d).has_value());
  REQUIRE(dec->finish(events, d).has_value());
  REQUIRE(events.size() == 2);
  CHECK(events[1].record == "{\"id\":2}");
  CHECK(events[1].tag == "cloud.aws.example.lines");
  CHECK(c->services[1].name == "aws_sqs_cloudtrail");
  REQUIRE(c->warnings.size() == 1);
  CHECK(c->warnings[0].path == "inputs.sqs_collector.services.example.extra");

  // A type error inside a handler's options names the full path.
  auto bad = parse_collector_config(
      R"({"inputs":{"sqs_collector":{"id":"1","services":{"example":{"min_severity":"high"}},)"
      R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
      "gd.json", d, opts);
  REQUIRE_FALSE(bad.has_value());
  CHECK(d.message.find("gd.json: inputs.sqs_collector.services.example.min_severity: expected an integer") == 0);

  // validate() runs the handler's own check() through the same registry...
  auto settings = *c;
  settings.services[0].routing_template.clear();
  auto v = validate(settings, d, &reg);
  REQUIRE_FALSE(v.has_value());
  CHECK(d.message.find("gd.json: inputs.sqs_collector.services.example.routing_template: empty") == 0);
  // ...and, against a registry without the handler, names the service as unknown.
  REQUIRE_FALSE(validate(*c, d).has_value());
  CHECK(d.message.find("gd.json: inputs.sqs_collector.services.example: unknown service \"aws_sqs_example_lines\"") == 0);
}

TEST_CASE("CloudTrail handler options", "[service_handler]") {
  Diagnostics d;
  auto parse = [&](std::string_view opts) {
    std::string json = R"({"inputs":{"sqs_collector":{"id":"1","services":{"aws_sqs_cloudtrail":)" +
                       std::string(opts) +
                       R"(},"base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})";
    return parse_collector_config(json, "ct.json", d);
  };
  SECTION("defaults") {
    auto c = parse("{}");
    REQUIRE(c.has_value());
    CHECK(c->services[0].routing_template == "cloud.aws.cloudtrail.{service}");
    CHECK(c->services[0].aws_services.empty());
    CHECK_FALSE(c->services[0].ack_messages.has_value());
  }
  SECTION("null options mean defaults") {
    auto c = parse("null");
    REQUIRE(c.has_value());
    CHECK(c->services[0].routing_template == "cloud.aws.cloudtrail.{service}");
  }
  SECTION("services list as a string, eventSource spellings normalised") {
    auto c = parse(R"({"services": "S3.amazonaws.com, iam ,sts"})");
    REQUIRE(c.has_value());
    CHECK(c->services[0].aws_services == std::vector<std::string>{"s3", "iam", "sts"});
  }
  SECTION("template placeholders {account} and {region}") {
    auto c = parse(R"({"routing_template": "cloud.aws.cloudtrail.{account}.{region}.{service}"})");
    INFO(d.message);
    REQUIRE(c.has_value());
  }
  SECTION("both aws_services and services is an error") {
    auto c = parse(R"({"services": ["s3"], "aws_services": ["iam"]})");
    REQUIRE_FALSE(c.has_value());
    CHECK(d.message.find("set either aws_services or services") != std::string::npos);
  }
  SECTION("Devo custom_service options are warned as unused") {
    auto c = parse(R"({"encoding": "gzip", "file_format": {"type": "line_split_processor"}})");
    REQUIRE(c.has_value());
    REQUIRE(c->warnings.size() == 2);
    CHECK(c->warnings[0].path == "inputs.sqs_collector.services.aws_sqs_cloudtrail.encoding");
    CHECK(c->warnings[0].message.find("decoded natively") != std::string::npos);
  }
  SECTION("claim rule: the handler's default, each claim_ option replacing its part") {
    auto c = parse("{}");
    REQUIRE(c.has_value());
    CHECK(c->services[0].claim.key_contains == std::vector<std::string>{"/CloudTrail/", "/CloudTrail-Insight/", "/CloudTrail-Digest/"});
    CHECK(c->services[0].claim.event_sources == std::vector<std::string>{"aws.cloudtrail"});
    CHECK(c->services[0].claim.by_content);
    CHECK(describe(c->services[0].claim) ==
          "key contains /CloudTrail/ or /CloudTrail-Insight/ or /CloudTrail-Digest/; EventBridge source aws.cloudtrail; else content");
    c = parse(R"({"claim_key_prefixes": "firehose/ct/", "claim_key_contains": [], "claim_by_content": false})");
    INFO(d.message);
    REQUIRE(c.has_value());
    CHECK(c->services[0].claim.key_prefixes == std::vector<std::string>{"firehose/ct/"});
    CHECK(c->services[0].claim.key_contains.empty());
    CHECK(c->services[0].claim.event_sources == std::vector<std::string>{"aws.cloudtrail"});
    CHECK_FALSE(c->services[0].claim.by_content);
    CHECK(describe(c->services[0].claim) == "key starts with firehose/ct/; EventBridge source aws.cloudtrail");
    CHECK_FALSE(parse(R"({"claim_key_prefixes": [""]})").has_value());
    CHECK(d.message.find("services.aws_sqs_cloudtrail.claim_key_prefixes[0]: expected a non-empty string") !=
          std::string::npos);
    CHECK_FALSE(parse(R"({"claim_by_content": "yes"})").has_value());
    CHECK(d.message.find("claim_by_content") != std::string::npos);
  }
  SECTION("content recognition of a CloudTrail log file") {
    auto h = ServiceHandlerRegistry::builtin().find("aws_sqs_cloudtrail");
    CHECK(h->recognizes(R"({"Records":[{"eventVersion":"1.08")"));
    CHECK(h->recognizes(" {\n  \"Records\" : [ "));
    CHECK_FALSE(h->recognizes(R"({"messageType":"DATA_MESSAGE")"));
    CHECK_FALSE(h->recognizes(R"({"Records")"));  // cut before the array: not enough to tell
    CHECK_FALSE(h->recognizes(""));
  }
  SECTION("bad templates") {
    for (auto t : {R"("")", R"("cloud.{service")", R"("cloud}.x")", R"("single")", R"("cloud..x")",
                   R"("cloud.aws.{bucket}")"}) {
      INFO(t);
      auto c = parse(std::string(R"({"routing_template": )") + t + "}");
      CHECK_FALSE(c.has_value());
      CHECK(d.message.find("routing_template") != std::string::npos);
    }
  }
}

TEST_CASE("the CloudTrail payload decoder tags and filters", "[service_handler]") {
  Diagnostics d;
  auto c = parse_collector_config(
      R"({"inputs":{"sqs_collector":{"id":"1","services":{"cloudtrail":{"aws_services":["s3.amazonaws.com","sts"],)"
      R"("routing_template":"cloud.aws.cloudtrail.{service}.{account}"}},)"
      R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
      "ct.json", d);
  INFO(d.message);
  REQUIRE(c.has_value());
  auto handler = ServiceHandlerRegistry::builtin().find(c->services[0].name);
  REQUIRE(handler);
  auto made = handler->make_payload_decoder(c->services[0], apply(c->decoder), d);
  REQUIRE(made.has_value());
  auto& dec = *made;
  REQUIRE(dec);
  const std::string object =
      R"({"Records":[{"eventSource":"s3.amazonaws.com","recipientAccountId":"111122223333","eventName":"GetObject"},)"
      R"({"eventSource":"iam.amazonaws.com","eventName":"CreateUser"},)"
      R"({"eventSource":"sts.amazonaws.com","recipientAccountId":"444455556666","eventName":"AssumeRole"}]})";
  std::vector<Event> events;
  dec->begin("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/x.json");
  // Split mid-record: the decoder streams.
  REQUIRE(dec->feed(std::string_view(object).substr(0, 50), events, d).has_value());
  REQUIRE(dec->feed(std::string_view(object).substr(50), events, d).has_value());
  REQUIRE(dec->finish(events, d).has_value());
  REQUIRE(events.size() == 2);
  CHECK(events[0].tag == "cloud.aws.cloudtrail.s3.111122223333");
  CHECK(events[1].tag == "cloud.aws.cloudtrail.sts.444455556666");
  CHECK(dec->filtered() == 1);
  CHECK(dec->skipped() == SkipReason::none);

  // Reused for the next object; a corrupt one fails with a message naming it.
  events.clear();
  dec->begin("AWSLogs/bad.json");
  auto fed = dec->feed(R"({"Records":[{"eventSource":)", events, d);
  auto done = fed ? dec->finish(events, d) : fed;
  CHECK_FALSE(done.has_value());
  CHECK(d.message.find("AWSLogs/bad.json") != std::string::npos);
  CHECK(dec->filtered() == 0);

  // Digest files are skipped, not errors.
  events.clear();
  dec->begin("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/28/d.json.gz");
  REQUIRE(dec->feed("{}", events, d).has_value());
  REQUIRE(dec->finish(events, d).has_value());
  CHECK(events.empty());
  CHECK(dec->skipped() == SkipReason::digest);
}

TEST_CASE("make_payload_decoder refuses settings that fail check()", "[service_handler]") {
  ServiceSettings s;
  s.name = "aws_sqs_cloudtrail";
  s.routing_template = "cloud.aws.{bucket}";
  auto h = make_cloudtrail_service_handler();
  Diagnostics d;
  auto checked = h->check(s, "services.x", d);
  REQUIRE_FALSE(checked.has_value());
  CHECK(checked.error() == client_errc::invalid_argument);
  CHECK(d.message.find("services.x.routing_template") != std::string::npos);
  Diagnostics d2;
  auto made = h->make_payload_decoder(s, DecoderOptions{}, d2);
  REQUIRE_FALSE(made.has_value());
  CHECK(made.error() == client_errc::invalid_argument);
  CHECK(d2.message.find("services.aws_sqs_cloudtrail.routing_template: unknown placeholder {bucket}") == 0);
  Diagnostics d3;
  CHECK_FALSE(make_payload_decoder_factory(h, s, DecoderOptions{}, d3).has_value());
  CHECK(d3.message == d2.message);
  CHECK_FALSE(make_payload_decoder_factory(nullptr, s, DecoderOptions{}, d3).has_value());
  CHECK(d3.message == "no service handler");
}
