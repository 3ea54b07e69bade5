// Unit tests for the STS request builders and response parsers.
#include "ctsqs/aws/sts.hpp"

#include "ctsqs/aws/error.hpp"

#include "catch.hpp"
#include "../catch_result.hpp"

using namespace ctsqs;
using namespace ctsqs::sts;
using namespace std::chrono;

namespace {
HttpResponse ok(std::string body) {
  HttpResponse r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

const char* assume_role_xml =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleResult>\n"
    "    <SourceIdentity>DevUser123</SourceIdentity>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/demo/ctsqs</Arn>\n"
    "      <AssumedRoleId>ARO123EXAMPLE123:ctsqs</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
    "      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764&amp;x</SessionToken>\n"
    "      <Expiration>2026-11-28T21:15:30Z</Expiration>\n"
    "    </Credentials>\n"
    "    <PackedPolicySize>8</PackedPolicySize>\n"
    "  </AssumeRoleResult>\n"
    "  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>\n"
    "</AssumeRoleResponse>\n";
}  // namespace

TEST_CASE("AssumeRole request: form body with every parameter encoded", "[sts]") {
  StsTarget t{"https", "sts.eu-west-1.amazonaws.com", ""};
  AssumeRoleParams p;
  p.role_arn = "arn:aws:iam::123456789012:role/cross account";
  p.session_name = "ctsqs@host";
  p.duration = 1800s;
  p.external_id = "ext/id+1";
  auto r = make_assume_role_request(t, p);
  CHECK(r.method == "POST");
  CHECK(r.scheme == "https");
  CHECK(r.host == "sts.eu-west-1.amazonaws.com");
  CHECK(r.path == "/");
  REQUIRE(r.find_header("content-type"));
  CHECK(r.find_header("content-type")->value.starts_with("application/x-www-form-urlencoded"));
  CHECK(r.body ==
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fcross%20account"
        "&RoleSessionName=ctsqs%40host&DurationSeconds=1800&ExternalId=ext%2Fid%2B1");
  p.external_id.clear();
  CHECK(make_assume_role_request(t, p).body.find("ExternalId") == std::string::npos);
  StsTarget prefixed{"http", "127.0.0.1:4600", "/sts"};
  CHECK(make_get_caller_identity_request(prefixed).path == "/sts/");
  CHECK(make_get_caller_identity_request(prefixed).body == "Action=GetCallerIdentity&Version=2011-06-15");
}

TEST_CASE("AssumeRoleWithWebIdentity request carries the token", "[sts]") {
  AssumeRoleWithWebIdentityParams p;
  p.role_arn = "arn:aws:iam::123456789012:role/eks";
  p.web_identity_token = "eyJhbGciOi.J9.x-_";
  auto r = make_assume_role_with_web_identity_request({"https", "sts.us-east-1.amazonaws.com", ""}, p);
  CHECK(r.body.find("Action=AssumeRoleWithWebIdentity&") == 0);
  CHECK(r.body.find("&WebIdentityToken=eyJhbGciOi.J9.x-_") != std::string::npos);
}

TEST_CASE("validate names the bad AssumeRole field", "[sts]") {
  Diagnostics d;
  AssumeRoleParams p;
  p.role_arn = "arn:aws:iam::123456789012:role/r";
  CHECK(validate(p, d));
  p.role_arn = "my-role";
  CHECK_FALSE(validate(p, d));
  CHECK(d.message.find("role ARN") != std::string::npos);
  p.role_arn = "arn:aws:iam::123456789012:role/r";
  p.session_name = "bad name";
  CHECK_FALSE(validate(p, d));
  CHECK(d.message.find("session name") != std::string::npos);
  p.session_name = "ok";
  p.duration = 100s;
  CHECK_FALSE(validate(p, d));
  CHECK(d.message.find("duration") != std::string::npos);
  p.duration = 3600s;
  p.external_id = "x";
  CHECK_FALSE(validate(p, d));
  CHECK(d.message.find("external id") != std::string::npos);
}

TEST_CASE("AssumeRole response parses credentials, expiry and the assumed role", "[sts]") {
  Diagnostics d;
  auto r = parse_assume_role_response(ok(assume_role_xml), d);
  REQUIRE(r);
  CHECK(r->credentials.access_key_id == "ASIAIOSFODNN7EXAMPLE");
  CHECK(r->credentials.secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
  CHECK(r->credentials.session_token == "AQoDYXdzEPT//////////wEXAMPLEtc764&x");
  REQUIRE(r->credentials.expiration);
  CHECK(*r->credentials.expiration == sys_days(year{2026} / November / 28) + 21h + 15min + 30s);
  CHECK(r->assumed_role_arn == "arn:aws:sts::123456789012:assumed-role/demo/ctsqs");
  CHECK(r->assumed_role_id == "ARO123EXAMPLE123:ctsqs");
}

TEST_CASE("AssumeRole response errors name what is missing and leak no secret", "[sts]") {
  Diagnostics d;
  std::string body = assume_role_xml;
  auto no_exp = body;
  no_exp.replace(no_exp.find("<Expiration>"), std::string("<Expiration>2026-11-28T21:15:30Z</Expiration>").size(), "");
  auto r = parse_assume_role_response(ok(no_exp), d);
  REQUIRE(r.has_error());
  CHECK(r.error() == aws_errc::malformed_response);
  CHECK(d.message.find("Expiration") != std::string::npos);
  CHECK(d.message.find("wJalrXUtnFEMI") == std::string::npos);
  CHECK(parse_assume_role_response(ok("<html/>"), d).has_error());
  CHECK(parse_assume_role_response(ok(""), d).has_error());
  auto bad_exp = body;
  bad_exp.replace(bad_exp.find("2026-11-28T21:15:30Z"), 20, "tomorrow-ish-o-clock");
  CHECK(parse_assume_role_response(ok(bad_exp), d).has_error());
}

TEST_CASE("GetCallerIdentity response", "[sts]") {
  Diagnostics d;
  auto r = parse_get_caller_identity_response(ok(
      "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
      "<Arn>arn:aws:sts::123456789012:assumed-role/demo/ctsqs</Arn><UserId>ARO:ctsqs</UserId>"
      "<Account>123456789012</Account></GetCallerIdentityResult>"
      "<ResponseMetadata><RequestId>01234567-89ab</RequestId></ResponseMetadata></GetCallerIdentityResponse>"), d);
  REQUIRE(r);
  CHECK(r->account == "123456789012");
  CHECK(r->arn == "arn:aws:sts::123456789012:assumed-role/demo/ctsqs");
  CHECK(r->user_id == "ARO:ctsqs");
  CHECK(parse_get_caller_identity_response(ok("<GetCallerIdentityResult></GetCallerIdentityResult>"), d).has_error());
}

TEST_CASE("ISO 8601 timestamps as STS, ECS and IMDS write them", "[sts]") {
  Diagnostics d;
  const auto t = sys_days(year{2026} / November / 28) + 20h + 15min;
  CHECK(parse_iso8601("2026-11-28T20:15:00Z", d).value() == t);
  CHECK(parse_iso8601("2026-11-28T20:15:00.123Z", d).value() == t);
  CHECK(parse_iso8601("2026-11-28T20:15:00+00:00", d).value() == t);
  for (const char* bad : {"2026-11-28T20:15:00+02:00", "2026-02-30T20:15:00Z", "2026-11-28", "2026-11-28T24:15:00Z"}) {
    INFO(bad);
    d = {};
    CHECK(parse_iso8601(bad, d).error() == aws_errc::malformed_response);
    CHECK(d.message == "not an ISO 8601 UTC timestamp (expected e.g. 2026-01-01T00:00:00Z)");
  }
}

TEST_CASE("ISO 8601: far-future dates clamp to far_future, dates before 1970 are refused", "[sts]") {
  Diagnostics d;
  // Years past 2262 overflowed system_clock's nanoseconds (undefined behaviour found by fuzzing).
  CHECK(parse_iso8601("9999-12-31T23:59:59Z", d).value() == far_future);
  CHECK(parse_iso8601("2263-01-01T00:00:00Z", d).value() == far_future);
  CHECK(parse_iso8601("2200-01-01T00:00:01Z", d).value() == far_future);
  CHECK(parse_iso8601("2199-12-31T23:59:59Z", d).value() == far_future - 1s);
  CHECK(parse_iso8601("1970-01-01T00:00:00Z", d).value() == system_clock::time_point{});
  for (const char* old : {"1969-12-31T23:59:59Z", "1677-09-21T00:12:43Z", "0000-01-01T00:00:00Z"}) {
    INFO(old);
    d = {};
    CHECK(parse_iso8601(old, d).error() == aws_errc::malformed_response);
    CHECK(d.message.find("a date before 1970 (year ") == 0);
  }
}

TEST_CASE("AssumeRole: an unreadable Expiration is named with the reason", "[sts]") {
  Diagnostics d;
  auto r = parse_assume_role_response(ok(
      "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA</AccessKeyId>"
      "<SecretAccessKey>sk-secret-value</SecretAccessKey><SessionToken>tok</SessionToken>"
      "<Expiration>1960-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"), d);
  REQUIRE(r.has_error());
  CHECK(d.message == "STS AssumeRole response has an unreadable Credentials/Expiration '1960-01-01T00:00:00Z': "
                     "a date before 1970 (year 1960)");
  auto far = parse_assume_role_response(ok(
      "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA</AccessKeyId>"
      "<SecretAccessKey>sk-secret-value</SecretAccessKey><SessionToken>tok</SessionToken>"
      "<Expiration>9999-12-31T23:59:59Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"), d);
  REQUIRE(far);
  CHECK(far->credentials.expiration == far_future);
}
