// Unit tests of S3ObjectStore's pure helpers: the region a wrong-region answer names, and the
// GetObject request of each attempt (a resume carries Range + If-Match, never Range alone).
#include "ctsqs/collector/object_store.hpp"

#include "catch.hpp"
#include "ctsqs/aws/error.hpp"

using namespace ctsqs;

TEST_CASE("object store: a PermanentRedirect names the bucket's region to follow once", "[object_store]") {
  Diagnostics d;
  d.message = "s3 GetObject: PermanentRedirect: The bucket you are attempting to access must be addressed "
              "using the specified endpoint. (the bucket is in region eu-west-1)";
  CHECK(redirect_region(make_error_code(aws_errc::permanent_redirect), d) == "eu-west-1");
  CHECK(redirect_region(make_error_code(aws_errc::wrong_region), d) == "eu-west-1");
  // Other errors, or no region in the answer: nothing to follow.
  CHECK(redirect_region(make_error_code(aws_errc::access_denied), d).empty());
  d.message = "s3 GetObject: PermanentRedirect: moved";
  CHECK(redirect_region(make_error_code(aws_errc::permanent_redirect), d).empty());
  d.message = "x (the bucket is in region not a region!)";
  CHECK(redirect_region(make_error_code(aws_errc::permanent_redirect), d).empty());
}

namespace {

Endpoint test_endpoint() {
  Endpoint ep;
  ep.scheme = "http";
  ep.host = "127.0.0.1:9000";
  ep.custom = true;
  ep.signing_name = "s3";
  return ep;
}

}  // namespace

TEST_CASE("object store: every attempt is pinned with If-Match, a resume adds Range", "[object_store]") {
  ObjectRef o{"bucket", "AWSLogs/x.json.gz", "us-east-1", 1000, "0123456789abcdef0123456789abcdef", ""};
  Diagnostics d;
  auto first = make_fetch_request(o, test_endpoint(), true, 0, d);
  REQUIRE(first.has_value());
  CHECK(first->method == "GET");
  CHECK(first->find_header("Range") == nullptr);
  // The object the notification announced, not whatever is under its key now.
  REQUIRE(first->find_header("If-Match") != nullptr);
  CHECK(first->find_header("If-Match")->value == "\"0123456789abcdef0123456789abcdef\"");
  CHECK(first->query.empty());

  auto resumed = make_fetch_request(o, test_endpoint(), true, 400, d);
  REQUIRE(resumed.has_value());
  REQUIRE(resumed->find_header("Range") != nullptr);
  CHECK(resumed->find_header("Range")->value == "bytes=400-");
  REQUIRE(resumed->find_header("If-Match") != nullptr);
  CHECK(resumed->find_header("If-Match")->value.find("0123456789abcdef0123456789abcdef") != std::string::npos);
}

TEST_CASE("object store: a notification's versionId pins every attempt with ?versionId=", "[object_store]") {
  ObjectRef o{"bucket", "AWSLogs/x.json.gz", "us-east-1", 1000, "", "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"};
  Diagnostics d;
  auto first = make_fetch_request(o, test_endpoint(), true, 0, d);
  REQUIRE(first.has_value());
  CHECK(first->query == "versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY");
  CHECK(first->find_header("If-Match") == nullptr);
  // The version pins the bytes: a resume is safe without an ETag.
  auto resumed = make_fetch_request(o, test_endpoint(), true, 400, d);
  REQUIRE(resumed.has_value());
  CHECK(resumed->query == first->query);
  REQUIRE(resumed->find_header("Range") != nullptr);
}

TEST_CASE("object store: a resume without an ETag is refused, naming the object", "[object_store]") {
  ObjectRef o{"bucket", "k.json.gz", "", 0, "", ""};
  Diagnostics d;
  CHECK(make_fetch_request(o, test_endpoint(), true, 0, d).has_value());
  auto r = make_fetch_request(o, test_endpoint(), true, 10, d);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == make_error_code(client_errc::invalid_argument));
  CHECK(d.message.find("s3://bucket/k.json.gz") != std::string::npos);
  CHECK(d.message.find("ETag") != std::string::npos);
}

TEST_CASE("object store: a resumed answer is judged from its status and ETag before any byte", "[object_store]") {
  Diagnostics diag;
  HttpResponse h;
  h.status = 206;
  CHECK(check_resumed_answer(h, "etag-1", 1000, diag));
  // 200: the Range was ignored; the whole object is usable only if it is the same one.
  h.status = 200;
  h.headers = {{"ETag", "\"etag-1\""}};
  CHECK(check_resumed_answer(h, "etag-1", 1000, diag));
  CHECK(check_resumed_answer(h, "\"etag-1\"", 1000, diag));
  h.headers = {{"ETag", "\"etag-2\""}};
  CHECK_FALSE(check_resumed_answer(h, "etag-1", 1000, diag));
  CHECK(diag.message.find("HTTP 200 with the whole object") != std::string::npos);
  CHECK(diag.message.find("etag-2") != std::string::npos);
  CHECK(diag.message.find("byte 1000") != std::string::npos);
  HttpResponse none;
  none.status = 200;
  CHECK_FALSE(check_resumed_answer(none, "etag-1", 1000, diag));
  none.status = 204;
  CHECK_FALSE(check_resumed_answer(none, "etag-1", 1000, diag));
}
