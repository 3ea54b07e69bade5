// Unit tests of the service handler registry and the CloudTrail handler, including a custom
// handler plugged in from outside (the way Devo's other SQS services would be added).
#include "ctsqs/service_handler.hpp"

#include "ctsqs/collector_config.hpp"

#include "catch.hpp"

#include <algorithm>

using namespace ctsqs;

namespace {

/// A stand-in for Devo's GuardDuty service, defined only in this test: it proves a new service
/// needs no change to the parser or the registry.
class GuardDutyHandler final : public ServiceHandler {
 public:
  std::string_view name() const override { return "aws_sqs_guard_duty"; }
  std::vector<std::string> aliases() const override { return {"guardduty", "guard_duty"}; }
  std::string_view description() const override { return "GuardDuty findings"; }
  std::string_view default_routing_template() const override { return "cloud.aws.guardduty.findings"; }
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
  std::string check(const ServiceSettings& s, std::string_view path) const override {
    return s.routing_template.empty() ? std::string(path) + ".routing_template: empty" : std::string();
  }
  mutable std::int64_t min_severity_seen = -1;
};

}  // namespace

TEST_CASE("the builtin registry knows aws_sqs_cloudtrail and its alias", "[service_handler]") {
  const auto& reg = ServiceHandlerRegistry::builtin();
  auto h = reg.find("aws_sqs_cloudtrail");
  REQUIRE(h);
  CHECK(reg.find("cloudtrail") == h);
  CHECK(reg.find("CloudTrail") == nullptr);  // names are exact, as in Devo's templates
  CHECK(reg.find("aws_sqs_guard_duty") == nullptr);
  CHECK(h->default_routing_template() == "cloud.aws.cloudtrail.{service}");
  CHECK(reg.names() == std::vector<std::string>{"aws_sqs_cloudtrail"});
  CHECK(reg.describe_known() == "aws_sqs_cloudtrail (alias cloudtrail)");
  // CloudTrail files go through the pipeline's built-in decoder.
  CHECK(h->make_payload_decoder(ServiceSettings{}, "AWSLogs/x.json.gz") == nullptr);
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
  auto gd = std::make_shared<GuardDutyHandler>();
  REQUIRE(reg.add(gd, d).has_value());
  CHECK(reg.describe_known() ==
        "aws_sqs_cloudtrail (alias cloudtrail), aws_sqs_guard_duty (aliases guardduty, guard_duty)");

  ConfigParseOptions opts;
  opts.registry = &reg;
  opts.validate = false;  // validate() checks services against the builtin registry
  auto c = parse_collector_config(
      R"({"inputs":{"sqs_collector":{"id":"1","services":{"guardduty":{"min_severity":4,"extra":1},"aws_sqs_cloudtrail":{}},)"
      R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
      "gd.json", d, opts);
  INFO(d.message);
  REQUIRE(c.has_value());
  REQUIRE(c->services.size() == 2);
  CHECK(c->services[0].name == "aws_sqs_guard_duty");
  CHECK(c->services[0].configured_name == "guardduty");
  CHECK(c->services[0].routing_template == "cloud.aws.guardduty.findings");
  CHECK(gd->min_severity_seen == 4);
  CHECK(c->services[1].name == "aws_sqs_cloudtrail");
  REQUIRE(c->warnings.size() == 1);
  CHECK(c->warnings[0].path == "inputs.sqs_collector.services.guardduty.extra");

  // A type error inside a handler's options names the full path.
  auto bad = parse_collector_config(
      R"({"inputs":{"sqs_collector":{"id":"1","services":{"guardduty":{"min_severity":"high"}},)"
      R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})",
      "gd.json", d, opts);
  REQUIRE_FALSE(bad.has_value());
  CHECK(d.message.find("gd.json: inputs.sqs_collector.services.guardduty.min_severity: expected an integer") == 0);
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
