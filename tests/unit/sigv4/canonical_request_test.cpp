// SigV4 canonicalization edge cases: URI encoding, paths, queries, header values and duplicates.
#include "ctsqs/aws/sigv4/canonical_request.hpp"

#include "catch.hpp"

using namespace ctsqs;
using namespace ctsqs::sigv4;

TEST_CASE("uri_encode keeps only unreserved characters", "[sigv4]") {
  CHECK(uri_encode("AZaz09-._~", true) == "AZaz09-._~");
  CHECK(uri_encode("a b+c*d!e'f(g)h", true) == "a%20b%2Bc%2Ad%21e%27f%28g%29h");
  CHECK(uri_encode("/a/b", true) == "%2Fa%2Fb");
  CHECK(uri_encode("/a/b", false) == "/a/b");
  CHECK(uri_encode("\xe1\x88\xb4", true) == "%E1%88%B4");  // UTF-8, uppercase hex
  CHECK(uri_encode(std::string("\0\xff", 2), true) == "%00%FF");
  CHECK(uri_encode("%", true) == "%25");
}

TEST_CASE("percent_decode is lenient and keeps '+'", "[sigv4]") {
  CHECK(percent_decode("a%20b+c") == "a b+c");
  CHECK(percent_decode("%e1%88%B4") == "\xe1\x88\xb4");
  CHECK(percent_decode("100%") == "100%");
  CHECK(percent_decode("%zz%4") == "%zz%4");
}

TEST_CASE("normalize_path removes dot and empty segments", "[sigv4]") {
  struct Row { const char* in; const char* out; };
  for (auto [in, out] : {Row{"/", "/"}, Row{"", "/"}, Row{"//", "/"}, Row{"/./", "/"},
                         Row{"/example/..", "/"}, Row{"/example1/example2/../..", "/"},
                         Row{"//example//", "/example/"}, Row{"/./example", "/example"},
                         Row{"/a/b/../c/./d/", "/a/c/d/"}, Row{"/../../a", "/a"},
                         Row{"/a/..b/.c", "/a/..b/.c"}}) {
    INFO(in);
    CHECK(normalize_path(in) == out);
  }
}

TEST_CASE("canonical_uri: double encoding for services, single for S3", "[sigv4]") {
  CHECK(canonical_uri("/example space/", true) == "/example%20space/");
  CHECK(canonical_uri("/a%20b", true) == "/a%2520b");
  CHECK(canonical_uri("/a%20b", false) == "/a%20b");
  CHECK(canonical_uri("/a b/../c", false) == "/a%20b/../c");
  CHECK(canonical_uri("/k%zz", false) == "/k%25zz");
  CHECK(canonical_uri("", false) == "/");
  CHECK(canonical_uri("/\xc3\xa9", true) == "/%C3%A9");
}

TEST_CASE("canonical query: sorting, empty and repeated keys, encoding", "[sigv4]") {
  CHECK(canonical_query_string("") == "");
  CHECK(canonical_query_string("Param2=value2&Param1=value1") == "Param1=value1&Param2=value2");
  CHECK(canonical_query_string("b&a=") == "a=&b=");
  CHECK(canonical_query_string("k=2&k=1&k=10") == "k=1&k=10&k=2");
  CHECK(canonical_query_string("&&a=1&&") == "a=1");
  CHECK(canonical_query_string("a=b=c") == "a=b%3Dc");
  CHECK(canonical_query_string("a=x%2Fy+z") == "a=x%2Fy%2Bz");
  CHECK(canonical_query_string("a=x/y z") == "a=x%2Fy%20z");
  CHECK(canonical_query_string("Z=1&a=1&_=1&~=1") == "Z=1&_=1&a=1&~=1");
  CHECK(canonical_query_string("X-Amz-Signature=abc&a=1") == "a=1");
  CHECK(canonical_query_string("\xe1\x88\xb4=bar") == "%E1%88%B4=bar");
}

TEST_CASE("header values are trimmed and sequential spaces folded", "[sigv4]") {
  CHECK(canonical_header_value("  a   b  c  ") == "a b c");
  CHECK(canonical_header_value("\ta\t\t b") == "a b");
  CHECK(canonical_header_value("\"a   b   c\"") == "\"a b c\"");
  CHECK(canonical_header_value("") == "");
  CHECK(canonical_header_value("   ") == "");
}

TEST_CASE("canonical headers: lowercase, sorted, duplicates joined in order", "[sigv4]") {
  std::vector<HttpHeader> h = {{"Host", "example.amazonaws.com"},
                               {"My-Header1", "value2"},
                               {"X-Amz-Date", "20150830T123600Z"},
                               {"my-header1", " value2 "},
                               {"MY-HEADER1", "value1"},
                               {"User-Agent", "x"},
                               {"Authorization", "old"}};
  auto c = canonical_headers(h);
  CHECK(c.block ==
        "host:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n");
  CHECK(c.signed_headers == "host;my-header1;x-amz-date");
  CHECK(canonical_headers(h, {"my-header1"}).signed_headers == "host;x-amz-date");
  CHECK(is_signable_header("range"));
  CHECK_FALSE(is_signable_header("proxy-connection"));
}
