// Differential SigV4 test: generated requests signed by ctsqs and by the reference signers
// (tests/peers/sign-ref.mjs: @smithy/signature-v4 of the AWS SDK for JavaScript, and aws4).
// Spawns node per request (a subprocess, no network). Cases: CTSQS_SIGV4_DIFF_CASES (default 120).
#include "ctsqs/aws/sigv4/signer.hpp"

#include "ctsqs/aws/sigv4/canonical_request.hpp"
#include "ctsqs/aws/sigv4/hash.hpp"

#include "catch.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <ranges>

#include <unistd.h>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace {
ctsqs::Diagnostics scratch;  // the detail of calls whose message is not checked
}  // namespace

using namespace ctsqs;
using namespace std::chrono;

namespace {

struct Rng {
  std::mt19937 gen;
  explicit Rng(std::uint32_t seed) : gen(seed) {}
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : gen() % n; }
  bool chance(unsigned percent) { return pick(100) < percent; }
  template <class T>
  const T& one_of(const std::vector<T>& v) { return v[pick(v.size())]; }
};

// Wire form like JavaScript's encodeURIComponent: leaves !'()* raw, so the signer's own
// encoding of them (double encoding for services, none for S3) is exercised.
std::string wire_encode(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || std::string_view("-_.!~*'()").find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      static constexpr char hex[] = "0123456789ABCDEF";
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string run_capture(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  status = ::pclose(p);
  return out;
}

struct Generated {
  HttpRequest req;
  Credentials creds;
  sigv4::SigningParams params;
  boost::json::object json;  // sign-ref.mjs input (signedHeaders added after signing)
};

Generated generate(Rng& rng, int index) {
  static const std::vector<std::string> regions = {"us-east-1", "eu-west-1", "ap-southeast-2",
                                                   "cn-north-1", "us-gov-west-1"};
  static const std::vector<std::string> services = {"sqs", "s3", "s3", "sts", "execute-api"};
  static const std::vector<std::string> methods = {"GET", "POST", "PUT", "DELETE", "HEAD"};
  static const std::vector<std::string> segments = {
      "a",      "AWSLogs", "b c",     "\xc3\xbc\xc3\xa9", "x+y", "~user", "*star*", "it's",
      "(p)",    "%",       "q=1&r",   "\xe1\x88\xb4",     "..",  ".",     "CloudTrail", "2024",
      "a:b",    "@",       "tab\tx",  "semi;colon",       "!"};
  static const std::vector<std::string> keys = {"Action", "Version", "a", "A", "b c", "\xc3\xa9",
                                                "k", "x-id", "list-type", "prefix", "empty", "~"};
  static const std::vector<std::string> values = {"", "1", "ReceiveMessage", "a b", "a/b", "\xe2\x9c\x93",
                                                  "x+y", "=", "2012-11-05", "AWSLogs/123/", "*"};
  static const std::vector<std::string> bodies = {
      "", "Action=ListUsers&Version=2010-05-08", "{\"QueueUrl\":\"https://sqs/1/q\",\"MaxNumberOfMessages\":10}",
      "\xe2\x82\xac uni\xc3\xa7ode \xf0\x9f\x98\x80", std::string(1000, 'z')};

  Generated g;
  const std::string service = rng.one_of(services);
  const bool s3 = service == "s3";
  const std::string region = rng.one_of(regions);
  const bool presign = rng.chance(25);
  const bool local = rng.chance(30);

  HttpRequest& r = g.req;
  r.method = rng.one_of(methods);
  r.scheme = local ? "http" : "https";
  r.host = local ? "127.0.0.1:" + std::to_string(4000 + rng.pick(2000))
                 : (s3 ? "trail-bucket.s3." + region + ".amazonaws.com"
                       : service + "." + region + ".amazonaws.com");
  // Path: S3 paths are sent in canonical (fully encoded) form, other services in wire form
  // with dot segments the signer must normalize.
  std::string path;
  std::size_t nseg = rng.pick(5);
  for (std::size_t i = 0; i < nseg; ++i) {
    std::string seg = rng.one_of(segments);
    if (s3 && (seg == "." || seg == "..")) seg = "dot";
    path += '/';
    path += s3 ? sigv4::uri_encode(seg, true) : wire_encode(seg);
  }
  if (path.empty() || rng.chance(20)) path += "/";
  r.path = path;

  std::string query;
  std::size_t nq = rng.pick(5);
  for (std::size_t i = 0; i < nq; ++i) {
    if (!query.empty()) query += '&';
    std::string k = rng.one_of(keys);
    if (s3 && rng.chance(50)) k = "k" + std::to_string(i);  // aws4 keeps one value per S3 key
    query += wire_encode(k);
    if (!rng.chance(15)) query += "=" + wire_encode(rng.one_of(values));
  }
  r.query = query;

  boost::json::object headers_json;
  r.headers = {{"Host", r.host}};
  if (rng.chance(50)) {
    r.headers.push_back({"Content-Type", "application/x-amz-json-1.0"});
    headers_json["Content-Type"] = "application/x-amz-json-1.0";
  }
  if (!presign && rng.chance(40)) {
    r.headers.push_back({"X-Amz-Target", "AmazonSQS.ReceiveMessage"});
    headers_json["X-Amz-Target"] = "AmazonSQS.ReceiveMessage";
  }
  if (rng.chance(40)) {
    // Duplicates are joined with ',' in order; messy spacing is trimmed and folded.
    std::vector<std::string> vals = {"  spaced   out  value ", "second", "\"a   b   c\""};
    std::size_t n = 1 + rng.pick(3);
    std::string joined;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& v = rng.one_of(vals);
      r.headers.push_back({i % 2 ? "x-custom-dup" : "X-Custom-Dup", v});
      if (i) joined += ',';
      joined += sigv4::canonical_header_value(v);
    }
    headers_json["X-Custom-Dup"] = joined;
  }
  if (s3 && rng.chance(40)) {
    r.headers.push_back({"Range", "bytes=0-1023"});
    headers_json["Range"] = "bytes=0-1023";
  }
  if (rng.chance(30)) {
    r.headers.push_back({"User-Agent", "ctsqs/0.1 differential"});  // never signed
    headers_json["User-Agent"] = "ctsqs/0.1 differential";
  }
  if (r.method == "POST" || r.method == "PUT") r.body = rng.one_of(bodies);

  Credentials& c = g.creds;
  c.access_key_id = "AKIDEXAMPLE" + std::to_string(index % 7);
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" + std::to_string(index % 5);
  if (rng.chance(35)) c.session_token = "FwoGZXIvYXdzE/token+with/slashes==" + std::to_string(index);

  sigv4::SigningParams& p = g.params;
  p.region = region;
  p.service = service;
  p.time = sys_days{year{2024} / 1 / 15} + hours{rng.pick(24)} + minutes{rng.pick(60)} +
           seconds{rng.pick(60)} + days{rng.pick(400)};
  p.query_signing = presign;
  p.expires = seconds(1 + static_cast<long>(rng.pick(604800)));
  if (!s3 && !presign && rng.chance(30)) p.sign_body = true;
  if (s3 && !presign && rng.chance(30)) p.unsigned_payload = true;

  boost::json::object& j = g.json;
  j["method"] = r.method;
  j["url"] = r.scheme + "://" + r.host + r.path + (r.query.empty() ? "" : "?" + r.query);
  j["headers"] = headers_json;
  j["body"] = r.body;
  j["service"] = service;
  j["region"] = region;
  boost::json::object cj;
  cj["accessKeyId"] = c.access_key_id;
  cj["secretAccessKey"] = c.secret_access_key;
  if (!c.session_token.empty()) cj["sessionToken"] = c.session_token;
  j["credentials"] = cj;
  if (p.unsigned_payload) j["payloadHash"] = "UNSIGNED-PAYLOAD";
  j["contentSha256Header"] = s3 || p.sign_body;
  if (presign) j["presign"] = p.expires.count();
  return g;
}

}  // namespace

TEST_CASE("SigV4 agrees with the AWS SDK for JavaScript signer on generated requests",
          "[sigv4][differential]") {
  const fs::path peers = fs::path(CTSQS_SOURCE_DIR) / "tests" / "peers";
  if (!fs::exists(peers / "node_modules" / "@smithy" / "signature-v4") ||
      !fs::exists(peers / "node_modules" / "aws4")) {
    WARN("skipped: tests/peers/node_modules is missing (run scripts/deps)");
    return;
  }
  int status = 0;
  run_capture("node --version", status);
  if (status != 0) {
    WARN("skipped: node is not installed (run scripts/deps)");
    return;
  }

  int cases = 120;
  if (const char* n = std::getenv("CTSQS_SIGV4_DIFF_CASES")) cases = std::max(1, std::atoi(n));
  const fs::path tmp = fs::temp_directory_path() /
                       ("ctsqs-sigv4-diff-" + std::to_string(::getpid()) + ".json");
  Rng rng(20240115);
  int aws4_agreed = 0, presigned = 0, s3 = 0, with_token = 0;
  for (int i = 0; i < cases; ++i) {
    Generated g = generate(rng, i);
    auto ours = sigv4::sign_request(g.req, g.creds, g.params, scratch);
    REQUIRE(ours.has_value());
    // Pin the signed header set: the reference signs exactly what we signed.
    boost::json::array signed_headers;
    for (auto part : std::views::split(std::string_view(ours->signed_headers), ';'))
      signed_headers.emplace_back(std::string_view(part.begin(), part.end()));
    g.json["signedHeaders"] = signed_headers;
    g.json["date"] = ours->string_to_sign.substr(17, 16);
    const std::string input = boost::json::serialize(g.json);
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << input;
    }
    std::string out = run_capture("node '" + (peers / "sign-ref.mjs").string() + "' < '" +
                                      tmp.string() + "' 2>&1",
                                  status);
    INFO("case " << i << " input: " << input);
    boost::system::error_code ec;
    auto parsed = boost::json::parse(out, ec);
    INFO("sign-ref output: " << out);
    REQUIRE_FALSE(ec);
    const auto& res = parsed.as_object();
    REQUIRE(res.contains("smithy"));
    const auto& smithy = res.at("smithy").as_object();
    REQUIRE_FALSE(smithy.contains("error"));
    INFO("ours:\n" << ours->canonical_request << "\nsmithy:\n" << smithy.at("canonicalRequest").as_string());
    CHECK(ours->canonical_request == std::string(smithy.at("canonicalRequest").as_string()));
    CHECK(ours->signature == std::string(smithy.at("signature").as_string()));
    if (res.at("agree").is_bool() && res.at("agree").as_bool()) {
      ++aws4_agreed;
      CHECK(ours->signature == std::string(res.at("aws4").at("signature").as_string()));
    }
    presigned += g.params.query_signing;
    s3 += g.params.service == "s3";
    with_token += !g.creds.session_token.empty();
  }
  fs::remove(tmp);
  std::printf("sigv4 differential: %d cases (%d presigned, %d s3, %d with session token) "
              "matched smithy; aws4 also agreed on %d\n",
              cases, presigned, s3, with_token, aws4_agreed);
  CHECK(presigned > 0);
  CHECK(s3 > 0);
  CHECK(with_token > 0);
}
