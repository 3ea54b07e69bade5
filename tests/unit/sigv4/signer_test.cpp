// SigV4 signer: our own vectors (AWS documentation examples), session tokens, S3, presigning, errors.
#include "ctsqs/aws/sigv4/signer.hpp"

#include "ctsqs/aws/sigv4/canonical_request.hpp"
#include "ctsqs/aws/sigv4/hash.hpp"
#include "ctsqs/aws/sigv4/signing_key.hpp"
#include "ctsqs/aws/sigv4/string_to_sign.hpp"

#include "catch.hpp"

#include <thread>
#include <vector>

namespace {
ctsqs::Diagnostics scratch;  // the detail of calls whose message is not checked
}  // namespace

using namespace ctsqs;
using namespace std::chrono;

namespace {

Credentials example_creds() {
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  return c;
}

system_clock::time_point example_time() {
  return sys_days{year{2015} / 8 / 30} + hours{12} + minutes{36};
}

sigv4::SigningParams params(std::string region, std::string service) {
  sigv4::SigningParams p;
  p.region = std::move(region);
  p.service = std::move(service);
  p.time = example_time();
  return p;
}

}  // namespace

TEST_CASE("dates are formatted from the given time, never the clock", "[sigv4]") {
  CHECK(sigv4::format_amz_date(example_time() + milliseconds(999)) == "20150830T123600Z");
  CHECK(sigv4::format_date_stamp(example_time()) == "20150830");
  system_clock::time_point t;
  REQUIRE(sigv4::parse_amz_date("2015-08-30T12:36:00Z", t));
  CHECK(t == example_time());
  REQUIRE(sigv4::parse_amz_date("20150830T123600Z", t));
  CHECK(t == example_time());
  CHECK_FALSE(sigv4::parse_amz_date("20150230T123600Z", t));
  CHECK_FALSE(sigv4::parse_amz_date("20150830 123600Z", t));
  CHECK_FALSE(sigv4::parse_amz_date("", t));
}

TEST_CASE("AWS documentation example: IAM ListUsers", "[sigv4]") {
  // Values from the AWS General Reference SigV4 walkthrough (GET iam ListUsers, 2015-08-30).
  auto key = sigv4::derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830",
                                       "us-east-1", "iam");
  CHECK(sigv4::to_hex(key) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");

  HttpRequest r;
  r.method = "GET";
  r.host = "iam.amazonaws.com";
  r.path = "/";
  r.query = "Action=ListUsers&Version=2010-05-08";
  r.headers = {{"Host", "iam.amazonaws.com"},
               {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  auto s = sigv4::sign_request(r, example_creds(), params("us-east-1", "iam"), scratch);
  REQUIRE(s.has_value());
  CHECK(s->canonical_request ==
        "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
        "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
        "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "content-type;host;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sigv4::sha256_hex(s->canonical_request) ==
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  CHECK(s->signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  CHECK(s->authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST_CASE("AWS documentation example: get-vanilla", "[sigv4]") {
  HttpRequest r;
  r.method = "GET";
  r.host = "example.amazonaws.com";  // no Host header: the signer adds one from host
  r.headers.clear();
  auto s = sigv4::sign_request(r, example_creds(), params("us-east-1", "service"), scratch);
  REQUIRE(s.has_value());
  CHECK(s->signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  REQUIRE(s->request.headers.size() == 3);
  CHECK(s->request.headers[0].name == "Host");
  CHECK(s->request.headers[1].name == "X-Amz-Date");
  CHECK(s->request.headers[2].name == "Authorization");
}

TEST_CASE("session token: signed by default, appended unsigned when omitted", "[sigv4]") {
  HttpRequest r;
  r.host = "sqs.us-east-1.amazonaws.com";
  Credentials c = example_creds();
  c.session_token = "TOKEN/with+slash=";
  auto p = params("us-east-1", "sqs");
  auto s = sigv4::sign_request(r, c, p, scratch);
  REQUIRE(s.has_value());
  CHECK(s->signed_headers == "host;x-amz-date;x-amz-security-token");
  CHECK(s->canonical_request.find("x-amz-security-token:TOKEN/with+slash=\n") != std::string::npos);

  p.omit_session_token = true;
  auto o = sigv4::sign_request(r, c, p, scratch);
  REQUIRE(o.has_value());
  CHECK(o->signed_headers == "host;x-amz-date");
  REQUIRE(o->request.headers.back().name == "X-Amz-Security-Token");
  CHECK(o->request.headers.back().value == "TOKEN/with+slash=");
  CHECK(o->signature != s->signature);

  p.query_signing = true;
  auto q = sigv4::sign_request(r, c, p, scratch);
  REQUIRE(q.has_value());
  CHECK(q->canonical_request.find("X-Amz-Security-Token") == std::string::npos);
  CHECK(q->request.query.ends_with("&X-Amz-Security-Token=TOKEN%2Fwith%2Bslash%3D"));
}

TEST_CASE("S3: no normalization, no double encoding, content hash header", "[sigv4]") {
  HttpRequest r;
  r.host = "bucket.s3.us-west-2.amazonaws.com";
  r.path = "/AWSLogs/123/CloudTrail/a%20b/../x%2By.json.gz";
  r.body = "";
  auto p = params("us-west-2", "s3");
  auto s = sigv4::sign_request(r, example_creds(), p, scratch);
  REQUIRE(s.has_value());
  CHECK(s->canonical_request.starts_with("GET\n/AWSLogs/123/CloudTrail/a%20b/../x%2By.json.gz\n"));
  CHECK(s->signed_headers == "host;x-amz-content-sha256;x-amz-date");
  CHECK(s->request.find_header("x-amz-content-sha256")->value == sigv4::empty_payload_sha256);

  // The same path for another service is normalized and encoded again.
  auto sqs = sigv4::sign_request(r, example_creds(), params("us-west-2", "sqs"), scratch);
  REQUIRE(sqs.has_value());
  CHECK(sqs->canonical_request.starts_with("GET\n/AWSLogs/123/CloudTrail/x%252By.json.gz\n"));

  p.unsigned_payload = true;
  auto u = sigv4::sign_request(r, example_creds(), p, scratch);
  REQUIRE(u.has_value());
  CHECK(u->request.find_header("x-amz-content-sha256")->value == "UNSIGNED-PAYLOAD");
  CHECK(u->canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}

TEST_CASE("presigned S3 URL uses UNSIGNED-PAYLOAD and X-Amz-Expires", "[sigv4]") {
  HttpRequest r;
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  auto p = params("us-east-1", "s3");
  p.expires = seconds(86400);
  // AWS S3 documentation example (GET test.txt, 20130524T000000Z, 86400 s).
  p.time = sys_days{year{2013} / 5 / 24};
  auto url = sigv4::presign_url(r, example_creds(), p, scratch);
  REQUIRE(url.has_value());
  CHECK(url->starts_with("https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm="));
  CHECK(url->find("&X-Amz-Expires=86400&") != std::string::npos);
  auto s = sigv4::sign_request(r, example_creds(), [&] { auto q = p; q.query_signing = true; return q; }(), scratch);
  REQUIRE(s.has_value());
  CHECK(s->canonical_request.ends_with("\nhost\nUNSIGNED-PAYLOAD"));
  // Re-presigning replaces the earlier signing parameters rather than stacking them.
  HttpRequest again = s->request;
  auto s2 = sigv4::sign_request(again, example_creds(), [&] { auto q = p; q.query_signing = true; return q; }(), scratch);
  REQUIRE(s2.has_value());
  CHECK(s2->request.query == s->request.query);
}

TEST_CASE("an existing x-amz-content-sha256 is the payload hash", "[sigv4]") {
  HttpRequest r;
  r.method = "PUT";
  r.host = "b.s3.amazonaws.com";
  r.headers = {{"Host", "b.s3.amazonaws.com"},
               {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}};
  auto s = sigv4::sign_request(r, example_creds(), params("us-east-1", "s3"), scratch);
  REQUIRE(s.has_value());
  CHECK(s->canonical_request.ends_with("\nSTREAMING-AWS4-HMAC-SHA256-PAYLOAD"));
  int count = 0;
  for (auto& h : s->request.headers) count += iequals(h.name, "x-amz-content-sha256");
  CHECK(count == 1);
}

TEST_CASE("re-signing replaces Authorization, X-Amz-Date and the token", "[sigv4]") {
  HttpRequest r;
  r.host = "sqs.eu-west-1.amazonaws.com";
  auto p = params("eu-west-1", "sqs");
  auto first = sigv4::sign_request(r, example_creds(), p, scratch);
  REQUIRE(first.has_value());
  p.time += hours(1);
  auto second = sigv4::sign_request(first->request, example_creds(), p, scratch);
  REQUIRE(second.has_value());
  CHECK(second->request.headers.size() == first->request.headers.size());
  CHECK(second->request.find_header("x-amz-date")->value == "20150830T133600Z");
  CHECK(second->signed_headers == "host;x-amz-date");
}

TEST_CASE("unsignable and extra unsigned headers stay out of SignedHeaders", "[sigv4]") {
  HttpRequest r;
  r.host = "h.example";
  r.headers = {{"Host", "h.example"}, {"User-Agent", "ctsqs/0.1"}, {"Range", "bytes=0-9"},
               {"Connection", "keep-alive"}, {"X-Amzn-Trace-Id", "Root=1"}};
  auto p = params("us-east-1", "s3");
  auto s = sigv4::sign_request(r, example_creds(), p, scratch);
  REQUIRE(s.has_value());
  CHECK(s->signed_headers == "host;range;x-amz-content-sha256;x-amz-date");
  p.unsigned_headers = {"range"};
  auto u = sigv4::sign_request(r, example_creds(), p, scratch);
  REQUIRE(u.has_value());
  CHECK(u->signed_headers == "host;x-amz-content-sha256;x-amz-date");
}

TEST_CASE("signing errors name the field and never the secret", "[sigv4]") {
  HttpRequest r;
  r.host = "h";
  Diagnostics d;
  Credentials c = example_creds();
  auto p = params("", "sqs");
  auto e = sigv4::sign_request(r, c, p, d);
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error() == client_errc::invalid_argument);
  CHECK(d.message.find("region") != std::string::npos);

  p = params("us-east-1", "sqs");
  p.query_signing = true;
  p.expires = seconds(604801);
  d.clear();
  REQUIRE_FALSE((sigv4::sign_request(r, c, p, d)).has_value());
  CHECK(d.message.find("X-Amz-Expires") != std::string::npos);

  c.access_key_id.clear();
  d.clear();
  REQUIRE_FALSE((sigv4::sign_request(r, c, params("us-east-1", "sqs"), d)).has_value());
  CHECK(d.message.find(example_creds().secret_access_key) == std::string::npos);

  HttpRequest no_host;
  no_host.host.clear();
  d.clear();
  REQUIRE_FALSE((sigv4::sign_request(no_host, example_creds(), params("us-east-1", "sqs"), d)).has_value());
  CHECK(d.message.find("Host") != std::string::npos);

  // sign() in place reports the same and leaves the request as it was.
  HttpRequest in_place = r;
  d.clear();
  auto s = sigv4::sign(in_place, example_creds(), params("", "sqs"), d);
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error() == client_errc::invalid_argument);
  CHECK(d.message == "SigV4: signing region is empty");
  CHECK(in_place.headers.size() == r.headers.size());
  CHECK(in_place.query == r.query);
}

TEST_CASE("signing keys are cached per secret, date, region and service", "[sigv4]") {
  sigv4::SigningKeyCache cache(4);
  auto a = cache.get("secret", "20150830", "us-east-1", "sqs");
  auto b = cache.get("secret", "20150830", "us-east-1", "sqs");
  CHECK(a == b);
  CHECK(cache.hits() == 1);
  CHECK(cache.misses() == 1);
  CHECK(cache.get("secret", "20150831", "us-east-1", "sqs") != a);
  CHECK(cache.get("other", "20150830", "us-east-1", "sqs") != a);
  CHECK(cache.get("secret", "20150830", "us-east-2", "sqs") != a);
  CHECK(cache.misses() == 4);
  CHECK(cache.size() == 4);
  cache.get("secret", "20150830", "us-east-1", "s3");  // full: starts over
  CHECK(cache.size() == 1);
  CHECK(a == sigv4::derive_signing_key("secret", "20150830", "us-east-1", "sqs"));

  // Concurrent users all get the same key.
  sigv4::SigningKeyCache shared;
  std::vector<std::thread> threads;
  std::vector<sigv4::Digest> got(8);
  for (std::size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 200; ++k) got[i] = shared.get("s", "20200101", "eu-west-1", "sqs");
    });
  for (auto& t : threads) t.join();
  for (auto& g : got) CHECK(g == sigv4::derive_signing_key("s", "20200101", "eu-west-1", "sqs"));
  CHECK(shared.hits() + shared.misses() == 1600);
  CHECK(shared.size() == 1);

  HttpRequest r;
  r.host = "h";
  auto p = params("us-east-1", "sqs");
  sigv4::SigningKeyCache mine;
  p.key_cache = &mine;
  REQUIRE((sigv4::sign_request(r, example_creds(), p, scratch)).has_value());
  REQUIRE((sigv4::sign_request(r, example_creds(), p, scratch)).has_value());
  CHECK(mine.misses() == 1);
  CHECK(mine.hits() == 1);
}
