// Unit tests for TagRouter: service derivation, templates, filter and counts.
#include "ctsqs/decode/tag_router.hpp"

#include "catch_result.hpp"

#include <stdexcept>

using namespace ctsqs;

namespace {
Event ev(std::string source, std::string type = "AwsApiCall", std::string account = "",
         std::string region = "") {
  Event e;
  e.event_source = std::move(source);
  e.event_type = std::move(type);
  e.recipient_account = std::move(account);
  e.aws_region = std::move(region);
  return e;
}
}  // namespace

TEST_CASE("service is the event source without suffix, sanitised to four tag levels", "[tag_router]") {
  CHECK(service_of(ev("s3.amazonaws.com")) == "s3");
  CHECK(service_of(ev("iam.amazonaws.com")) == "iam");
  CHECK(service_of(ev("IAM.AmazonAWS.com")) == "iam");
  CHECK(service_of(ev("ssm-guiconnect.amazonaws.com")) == "ssm-guiconnect");
  CHECK(service_of(ev("sso.signin.amazonaws.com")) == "sso_signin");
  CHECK(service_of(ev("custom source/x")) == "custom_source_x");
  CHECK(service_of(ev("")) == "unknown");
  CHECK(service_of(ev("ec2.amazonaws.com", "AwsCloudTrailInsight")) == "insights");
  CHECK(service_of(ev("", "AwsCloudTrailInsight")) == "insights");
  CHECK(normalize_service("S3.amazonaws.com") == "s3");
}

TEST_CASE("default template tags cloud.aws.cloudtrail.<service>", "[tag_router]") {
  TagRouter r;
  Event e = ev("s3.amazonaws.com");
  CHECK(r.route(e));
  CHECK(e.tag == "cloud.aws.cloudtrail.s3");
  Event i = ev("", "AwsCloudTrailInsight");
  CHECK(r.route(i));
  CHECK(i.tag == "cloud.aws.cloudtrail.insights");
  Event u = ev("");
  CHECK(r.route(u));
  CHECK(u.tag == "cloud.aws.cloudtrail.unknown");
  Event e2 = ev("s3.amazonaws.com");
  r.route(e2);
  CHECK(r.counts().at("cloud.aws.cloudtrail.s3") == 2);
  CHECK(r.counts().at("cloud.aws.cloudtrail.insights") == 1);
  CHECK(r.filtered() == 0);
}

TEST_CASE("template placeholders account and region are sanitised", "[tag_router]") {
  Diagnostics diag;
  auto made = TagRouter::create({"aws.{account}.{region}.{service}", {}, nullptr}, diag);
  REQUIRE(made);
  TagRouter& r = *made;
  Event e = ev("kms.amazonaws.com", "AwsApiCall", "123456789012", "eu-West-1");
  r.route(e);
  CHECK(e.tag == "aws.123456789012.eu-west-1.kms");
  Event bad = ev("kms.amazonaws.com", "AwsApiCall", "12.34", "");
  r.route(bad);
  CHECK(bad.tag == "aws.12_34.unknown.kms");
}

TEST_CASE("service filter keeps listed services and counts the rest", "[tag_router]") {
  Diagnostics diag;
  auto made = TagRouter::create({"cloud.aws.cloudtrail.{service}", {"s3", "IAM.amazonaws.com", "insights"}, nullptr}, diag);
  REQUIRE(made);
  TagRouter& r = *made;
  Event a = ev("s3.amazonaws.com"), b = ev("iam.amazonaws.com"), c = ev("ec2.amazonaws.com"),
        d = ev("", "AwsCloudTrailInsight");
  CHECK(r.route(a));
  CHECK(r.route(b));
  CHECK_FALSE(r.route(c));
  CHECK(c.tag == "cloud.aws.cloudtrail.ec2");
  CHECK(r.route(d));
  CHECK(r.filtered() == 1);
  CHECK(r.counts().size() == 3);
  CHECK(r.counts().count("cloud.aws.cloudtrail.ec2") == 0);
}

TEST_CASE("invalid templates are rejected with a message naming the field", "[tag_router]") {
  Diagnostics d;
  CHECK_FALSE(validate(TagRouterOptions{"x.{svc}", {}, nullptr}, d));
  CHECK(d.message.find("routing_template") != std::string::npos);
  CHECK(d.message.find("{svc}") != std::string::npos);
  CHECK_FALSE(validate(TagRouterOptions{"x.{service", {}, nullptr}, d));
  CHECK_FALSE(validate(TagRouterOptions{"x.service}", {}, nullptr}, d));
  CHECK_FALSE(validate(TagRouterOptions{"", {}, nullptr}, d));
  CHECK_FALSE(validate(TagRouterOptions{"a.{service}", {""}, nullptr}, d));
  CHECK(validate(TagRouterOptions{}, d));
  auto bad = TagRouter::create(TagRouterOptions{"{nope}", {}, nullptr}, d);
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == client_errc::invalid_argument);
  CHECK(d.message.find("{nope}") != std::string::npos);
  CHECK(TagRouter::create(TagRouterOptions{"x.{region}", {}, nullptr}, d));
}

TEST_CASE("a service longer than the limit goes to unknown, counted and logged once", "[tag_router]") {
  auto limits = std::make_shared<TagLimits>(64, 256);
  std::vector<std::string> lines;
  limits->log = [&lines](std::string_view l) { lines.emplace_back(l); };
  TagRouterOptions o;
  o.limits = limits;
  Diagnostics diag;
  auto made = TagRouter::create(o, diag);
  REQUIRE(made);
  TagRouter& r = *made;
  auto forged = ev(std::string(300, 'x') + ".amazonaws.com");
  CHECK(r.route(forged));
  CHECK(forged.tag == "cloud.aws.cloudtrail.unknown");
  auto again = ev(std::string(65, 'y'));
  CHECK(r.route(again));
  CHECK(again.tag == "cloud.aws.cloudtrail.unknown");
  auto fits = ev(std::string(64, 'z'));
  CHECK(r.route(fits));
  CHECK(fits.tag == "cloud.aws.cloudtrail." + std::string(64, 'z'));
  CHECK(r.capped() == 2);
  CHECK(limits->capped_events() == 2);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("longer than 64") != std::string::npos);
  CHECK(lines[0].size() < 200);  // the value is quoted cut short
}

TEST_CASE("a long account or region in the template goes to unknown", "[tag_router]") {
  auto limits = std::make_shared<TagLimits>(64, 256);
  limits->log = nullptr;
  TagRouterOptions o;
  o.routing_template = "cloud.aws.{account}.{region}.{service}";
  o.limits = limits;
  Diagnostics diag;
  auto made = TagRouter::create(o, diag);
  REQUIRE(made);
  TagRouter& r = *made;
  auto e = ev("s3.amazonaws.com", "AwsApiCall", "123456789012", std::string(100, 'r'));
  CHECK(r.route(e));
  CHECK(e.tag == "cloud.aws.123456789012.unknown.s3");
}

TEST_CASE("distinct tags beyond the bound go to unknown, shared by every router of the limits", "[tag_router]") {
  auto limits = std::make_shared<TagLimits>(64, 3);
  std::vector<std::string> lines;
  limits->log = [&lines](std::string_view l) { lines.emplace_back(l); };
  TagRouterOptions o;
  o.limits = limits;
  Diagnostics diag;
  auto made_a = TagRouter::create(o, diag), made_b = TagRouter::create(o, diag);
  REQUIRE((made_a && made_b));
  TagRouter &a = *made_a, &b = *made_b;  // e.g. two objects decoded by one process
  for (std::string s : {"s3", "iam", "ec2"}) {
    auto e = ev(s + ".amazonaws.com");
    CHECK(a.route(e));
    CHECK(e.tag == "cloud.aws.cloudtrail." + s);
  }
  for (std::string s : {"kms", "sts", "made-up-1", "made-up-2"}) {
    auto e = ev(s + ".amazonaws.com");
    CHECK(b.route(e));
    CHECK(e.tag == "cloud.aws.cloudtrail.unknown");
  }
  // Tags admitted before stay usable.
  auto known = ev("iam.amazonaws.com");
  CHECK(b.route(known));
  CHECK(known.tag == "cloud.aws.cloudtrail.iam");
  CHECK(b.capped() == 4);
  CHECK(a.capped() == 0);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("more than 3 distinct tags") != std::string::npos);
  CHECK(b.counts().at("cloud.aws.cloudtrail.unknown") == 4);
}
