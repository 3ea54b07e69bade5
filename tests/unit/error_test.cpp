// Unit tests for the shared error model.
#include "ctsqs/error.hpp"

#include "catch.hpp"

TEST_CASE("Diagnostics format names code, status, request id and message", "[error]") {
  ctsqs::Diagnostics d;
  CHECK(to_string(d).empty());
  d.message = "object s3://b/k: gone";
  CHECK(to_string(d) == "object s3://b/k: gone");
  d.aws_code = "NoSuchKey";
  d.http_status = 404;
  d.request_id = "R1";
  CHECK(to_string(d) == "NoSuchKey (HTTP 404, request id R1): object s3://b/k: gone");
}

TEST_CASE("client_errc converts to error_code with its own category", "[error]") {
  ctsqs::error_code ec = ctsqs::client_errc::limit_exceeded;
  CHECK(ec.category().name() == std::string("ctsqs.client"));
  CHECK(ec.message() == "limit exceeded");
  ctsqs::result<int> r = ec;
  CHECK(r.has_error());
}
