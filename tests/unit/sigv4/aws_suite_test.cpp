// Every case of the AWS SigV4 test suite (aws-c-auth v4), header and query signing, byte for byte.
#include "ctsqs/aws/sigv4/signer.hpp"

#include "ctsqs/aws/sigv4/request_text.hpp"
#include "ctsqs/aws/sigv4/signing_key.hpp"
#include "ctsqs/aws/sigv4/string_to_sign.hpp"

#include "catch.hpp"
#include "test_paths.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace ctsqs;

namespace {

std::optional<std::string> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

fs::path suite_dir() { return test::shared_testdata_dir() / "sigv4" / "aws-c-auth-v4"; }

struct SuiteCase {
  HttpRequest request;
  Credentials creds;
  sigv4::SigningParams params;
};

SuiteCase load_case(const fs::path& dir) {
  SuiteCase c;
  auto text = slurp(dir / "request.txt");
  REQUIRE(text.has_value());
  Diagnostics diag;
  auto req = sigv4::parse_request_text(*text, diag);
  INFO(diag.message);
  REQUIRE(req.has_value());
  c.request = *req;
  auto ctx_text = slurp(dir / "context.json");
  REQUIRE(ctx_text.has_value());
  auto ctx = boost::json::parse(*ctx_text).as_object();
  const auto& cr = ctx.at("credentials").as_object();
  c.creds.access_key_id = std::string(cr.at("access_key_id").as_string());
  c.creds.secret_access_key = std::string(cr.at("secret_access_key").as_string());
  if (auto* t = cr.if_contains("token")) c.creds.session_token = std::string(t->as_string());
  c.params.region = std::string(ctx.at("region").as_string());
  c.params.service = std::string(ctx.at("service").as_string());
  c.params.normalize_path = ctx.at("normalize").as_bool();
  c.params.sign_body = ctx.at("sign_body").as_bool();
  if (auto* o = ctx.if_contains("omit_session_token")) c.params.omit_session_token = o->as_bool();
  c.params.expires = std::chrono::seconds(ctx.at("expiration_in_seconds").to_number<std::int64_t>());
  REQUIRE(sigv4::parse_amz_date(std::string(ctx.at("timestamp").as_string()), c.params.time));
  return c;
}

void check_mode(const fs::path& dir, const SuiteCase& c, bool query) {
  const std::string prefix = query ? "query-" : "header-";
  sigv4::SigningParams params = c.params;
  params.query_signing = query;
  Diagnostics diag;
  auto signed_req = sigv4::sign_request(c.request, c.creds, params, diag);
  INFO(diag.message);
  REQUIRE(signed_req.has_value());
  auto expect = [&](const char* file, const std::string& actual) {
    auto want = slurp(dir / (prefix + file));
    REQUIRE(want.has_value());
    INFO(dir.filename().string() << " " << prefix << file);
    CHECK(actual == *want);
  };
  expect("canonical-request.txt", signed_req->canonical_request);
  expect("string-to-sign.txt", signed_req->string_to_sign);
  expect("signature.txt", signed_req->signature);
  expect("signed-request.txt", sigv4::to_request_text(signed_req->request));
}

}  // namespace

TEST_CASE("SigV4 passes every case of the AWS aws-c-auth v4 suite", "[sigv4][suite]") {
  if (!fs::is_directory(suite_dir())) {
    WARN("skipped: " << suite_dir() << " is absent");
    return;
  }
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(suite_dir()))
    if (e.is_directory() && fs::exists(e.path() / "request.txt")) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 20);
  for (const auto& dir : cases) {
    SECTION(dir.filename().string()) {
      SuiteCase c = load_case(dir);
      check_mode(dir, c, false);
      check_mode(dir, c, true);
    }
  }
}

TEST_CASE("SigV4 in-place sign() agrees with sign_request() on the suite", "[sigv4][suite]") {
  if (!fs::is_directory(suite_dir())) {
    WARN("skipped: " << suite_dir() << " is absent");
    return;
  }
  SuiteCase c = load_case(suite_dir() / "get-vanilla-with-session-token");
  HttpRequest r = c.request;
  Diagnostics diag;
  REQUIRE((sigv4::sign(r, c.creds, c.params, diag)).has_value());
  auto want = slurp(suite_dir() / "get-vanilla-with-session-token" / "header-signed-request.txt");
  REQUIRE(want.has_value());
  CHECK(sigv4::to_request_text(r) == *want);
}
