// Unit tests of the Devo HTTP sink's pure helpers (regional endpoints, path, validation, status
// classes, Retry-After) and of `outputs.devo_http` in the collector file (parse, check, redact).
#include "ctsqs/sink/devo_http_sink_options.hpp"

#include "catch.hpp"
#include "ctsqs/collector/config.hpp"

#include <string>

using namespace ctsqs;
using namespace std::chrono_literals;

namespace {

constexpr const char* token = "a5370g9e8f7d7edf9dSECRETTOKEN123";

DevoHttpSinkOptions good() {
  DevoHttpSinkOptions o;
  o.region = "eu";
  o.domain = "acme";
  o.token = token;
  return o;
}

std::string with_devo_http(const std::string& inner) {
  return R"({"inputs":{"sqs_collector":{"id":"1","services":{"aws_sqs_cloudtrail":{}},"region":"us-east-1",)"
         R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}},)"
         R"("ctsqs":{"outputs":{"devo_http":)" + inner + "}}}";
}

}  // namespace

TEST_CASE("devo_http: Devo's regional HTTP endpoints", "[devo_http]") {
  CHECK(devo_http_region_endpoint("us") == "https://http-us.devo.io");
  CHECK(devo_http_region_endpoint("US3") == "https://http-us3.devo.io");
  CHECK(devo_http_region_endpoint("eu") == "https://http-eu.devo.io");
  CHECK(devo_http_region_endpoint("ca") == "https://http-ca.devo.io");
  CHECK(devo_http_region_endpoint("apac") == "https://collector-ap.devo.io:8443");
  CHECK(devo_http_region_endpoint("ap2") == "https://collector-ap2.devo.io:8443");
  CHECK_FALSE(devo_http_region_endpoint("mars"));
}

TEST_CASE("devo_http: the endpoint URL is split for the transport", "[devo_http]") {
  Diagnostics d;
  auto t = parse_devo_http_endpoint("https://collector-ap.devo.io:8443", d);
  REQUIRE(t.has_value());
  CHECK(t->scheme == "https");
  CHECK(t->host == "collector-ap.devo.io:8443");
  CHECK(t->base_path.empty());
  t = parse_devo_http_endpoint("https://127.0.0.1:9000/prefix/", d);
  REQUIRE(t.has_value());
  CHECK(t->base_path == "/prefix");
  CHECK_FALSE(parse_devo_http_endpoint("ftp://x", d).has_value());
  CHECK(d.message.find("expected an https:// URL") != std::string::npos);
  CHECK_FALSE(parse_devo_http_endpoint("https://user:s3cret@x", d).has_value());
  CHECK(d.message.find("s3cret") == std::string::npos);  // user info may be a secret: not echoed
  CHECK_FALSE(parse_devo_http_endpoint("https://x/?a=b", d).has_value());
  CHECK_FALSE(parse_devo_http_endpoint("http-eu.devo.io", d).has_value());
}

TEST_CASE("devo_http: the stream path is Devo's, each part percent-encoded", "[devo_http]") {
  CHECK(devo_http_stream_path("", "acme", "tok123", "host-1", "cloud.aws.cloudtrail.s3") ==
        "/stream/acme/token!tok123/host-1/cloud.aws.cloudtrail.s3");
  CHECK(devo_http_stream_path("/p", "a b", "t/k", "h", "my.app") == "/p/stream/a%20b/token!t%2Fk/h/my.app");
}

TEST_CASE("devo_http: validation names the field and never echoes the token", "[devo_http]") {
  Diagnostics d;
  CHECK(validate(good(), d).has_value());
  auto refused = [&](DevoHttpSinkOptions o, std::string_view what) {
    Diagnostics dd;
    CHECK_FALSE(validate(o, dd).has_value());
    INFO(dd.message);
    CHECK(dd.message.find(what) != std::string::npos);
    CHECK(dd.message.find("SECRETTOKEN") == std::string::npos);
  };
  auto o = good();
  o.region.clear();
  refused(o, "set endpoint or region");
  o = good();
  o.endpoint = "https://x";
  refused(o, "either endpoint or region");
  o = good();
  o.region = "mars";
  refused(o, "region: expected");
  o = good();
  o.domain.clear();
  refused(o, "domain: missing");
  o = good();
  o.token.clear();
  refused(o, "token: missing");
  o = good();
  o.token = "<DEVO_TOKEN>";
  refused(o, "token: still holds a template placeholder");
  o = good();
  o.token = std::string(token) + " ";
  refused(o, "token: holds a space");
  o = good();
  o.batch_bytes = 40u << 20;
  refused(o, "batch_bytes");
  o = good();
  o.buffer_bytes = 1024;
  o.batch_bytes = 4096;
  refused(o, "buffer_bytes");
  o = good();
  o.backoff_max = 1ms;
  refused(o, "backoff_max");
}

TEST_CASE("devo_http: 2xx delivered, 408/429/5xx retried, other 4xx refused", "[devo_http]") {
  CHECK(classify_devo_http_status(200) == DevoHttpAnswer::delivered);
  CHECK(classify_devo_http_status(204) == DevoHttpAnswer::delivered);
  CHECK(classify_devo_http_status(429) == DevoHttpAnswer::retry);
  CHECK(classify_devo_http_status(408) == DevoHttpAnswer::retry);
  CHECK(classify_devo_http_status(500) == DevoHttpAnswer::retry);
  CHECK(classify_devo_http_status(503) == DevoHttpAnswer::retry);
  CHECK(classify_devo_http_status(400) == DevoHttpAnswer::refused);
  CHECK(classify_devo_http_status(401) == DevoHttpAnswer::refused);
  CHECK(classify_devo_http_status(413) == DevoHttpAnswer::refused);
  CHECK(classify_devo_http_status(302) == DevoHttpAnswer::refused);
  CHECK(describe_devo_http_status(401).find("check domain and token") != std::string::npos);
  CHECK(describe_devo_http_status(413).find("32 MB") != std::string::npos);
}

TEST_CASE("devo_http: Retry-After in seconds or as an HTTP date", "[devo_http]") {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(parse_retry_after("3", now) == 3000ms);
  CHECK(parse_retry_after(" 120 ", now) == 120000ms);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now) == 10000ms);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now) == 0ms);
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-1", now));
  CHECK_FALSE(parse_retry_after("1.5", now));
  CHECK_FALSE(parse_retry_after("Sun, 06 Foo 1994 08:49:47 GMT", now));
  CHECK_FALSE(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now));
  CHECK_FALSE(parse_retry_after("99999999999999999999", now));
}

TEST_CASE("devo_http in the collector file: parsed, checked, summarised without the token", "[devo_http][config]") {
  Diagnostics d;
  auto c = parse_collector_config(
      with_devo_http(std::string(R"({"region":"eu","domain":"acme","token":")") + token +
                     R"(","hostname":"h1","batch_bytes":"1MiB","flush_timeout":"30s","compression_level":1})"),
      "t.json", d);
  INFO(d.message);
  REQUIRE(c.has_value());
  REQUIRE(c->outputs.devo_http);
  CHECK_FALSE(c->outputs.empty());
  CHECK(c->outputs.devo_http->domain == "acme");
  CHECK(c->outputs.devo_http->token == token);
  CHECK(c->outputs.devo_http->batch_bytes == (1u << 20));
  CHECK(c->outputs.devo_http->flush_timeout == 30s);
  CHECK(c->outputs.devo_http->compression_level == 1);
  const auto s = describe(*c);
  CHECK(s.find("devo_http region eu domain acme (token redacted)") != std::string::npos);
  CHECK(s.find("SECRETTOKEN") == std::string::npos);

  // Errors name the field; a placeholder token is not echoed.
  auto bad = parse_collector_config(with_devo_http(R"({"region":"eu","domain":"acme","token":"<TOKEN-xyz789>"})"),
                                    "t.json", d);
  CHECK_FALSE(bad.has_value());
  CHECK(d.message.find("ctsqs.outputs.devo_http.token: still holds a template placeholder") != std::string::npos);
  CHECK(d.message.find("xyz789") == std::string::npos);
  bad = parse_collector_config(with_devo_http(R"({"region":"eu","token":"abc"})"), "t.json", d);
  CHECK_FALSE(bad.has_value());
  CHECK(d.message.find("ctsqs.outputs.devo_http.domain: missing") != std::string::npos);
  bad = parse_collector_config(with_devo_http(R"({"region":"moon","domain":"a","token":"abc"})"), "t.json", d);
  CHECK_FALSE(bad.has_value());
  CHECK(d.message.find("ctsqs.outputs.devo_http.region: expected") != std::string::npos);
}
