// Raw HTTP request text parsing/writing for `ctsqs sign`: suite format, folding, bodies, errors.
#include "ctsqs/aws/sigv4/request_text.hpp"

#include "ctsqs/aws/sigv4/canonical_request.hpp"

#include "catch.hpp"

namespace {
ctsqs::Diagnostics scratch;  // the detail of calls whose message is not checked
}  // namespace

using namespace ctsqs;
using namespace ctsqs::sigv4;

TEST_CASE("request text: request line with spaces, raw header values, body", "[sigv4]") {
  auto r = parse_request_text(
      "POST /example space/?a=1&b HTTP/1.1\nHost:example.amazonaws.com\nMy-Header2: \"a   b\"\n"
      "Content-Length:13\n\nParam1=value1", scratch);
  REQUIRE(r.has_value());
  CHECK(r->method == "POST");
  CHECK(r->path == "/example space/");
  CHECK(r->query == "a=1&b");
  CHECK(r->host == "example.amazonaws.com");
  REQUIRE(r->headers.size() == 3);
  CHECK(r->headers[1].value == " \"a   b\"");
  CHECK(r->body == "Param1=value1");
  CHECK(to_request_text(*r) ==
        "POST /example space/?a=1&b HTTP/1.1\nHost:example.amazonaws.com\nMy-Header2: \"a   b\"\n"
        "Content-Length:13\n\nParam1=value1");
}

TEST_CASE("request text: CRLF, folded continuation lines join the value with one space, no blank line",
          "[sigv4]") {
  auto r = parse_request_text("GET / HTTP/1.1\r\nHost:h\r\nMy-Header1:value1 \r\n  value2\r\n\t value3\r\n", scratch);
  REQUIRE(r.has_value());
  REQUIRE(r->headers.size() == 2);
  CHECK(r->headers[1].name == "My-Header1");
  CHECK(r->headers[1].value == "value1 value2 value3");
  CHECK(r->body.empty());
  // What gets signed: one space, as the AWS suite's get-header-value-multiline case has it (a
  // comma would make it a repeated header).
  CHECK(canonical_headers(r->headers).block == "host:h\nmy-header1:value1 value2 value3\n");
}

TEST_CASE("request text: errors name the line", "[sigv4]") {
  struct Row { const char* text; const char* needle; };
  for (auto [text, needle] : {Row{"", "line 1"}, Row{"GET\n", "line 1"},
                              Row{"GET / FTP/1\n", "HTTP version"},
                              Row{"GET ?a=1 HTTP/1.1\n", "start with '/'"},
                              Row{"GET / HTTP/1.1\nno colon here\n", "line 2"},
                              Row{"GET / HTTP/1.1\n value\n", "continuation"},
                              Row{"GET / HTTP/1.1\nBad Name:v\n", "invalid character"},
                              Row{"GET / HTTP/1.1\n:v\n", "empty"}}) {
    Diagnostics d;
    auto r = parse_request_text(text, d);
    INFO(text);
    REQUIRE_FALSE(r.has_value());
    CHECK(d.message.find(needle) != std::string::npos);
  }
}

TEST_CASE("request text: control characters in values are rejected", "[sigv4]") {
  Diagnostics d;
  CHECK_FALSE(parse_request_text("GET / HTTP/1.1\nA:x\ry\n", d).has_value());
  CHECK(d.message.find("control character") != std::string::npos);
  CHECK_FALSE(parse_request_text(std::string("GET /\0 HTTP/1.1\n", 16), scratch).has_value());
  CHECK(parse_request_text("GET / HTTP/1.1\nA:x\ty \xc3\xa9\n", scratch).has_value());
}
