// Unit tests of S3 ListObjectsV2 request building and ListBucketResult page parsing.
#include "ctsqs/aws/s3/list_objects.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/sigv4/canonical_request.hpp"

#include "catch.hpp"
#include "unit/catch_result.hpp"

#include <string>

using namespace ctsqs;
using namespace ctsqs::s3;

namespace {

Endpoint make_endpoint(std::string scheme, std::string host) {
  Endpoint e;
  e.scheme = std::move(scheme);
  e.host = std::move(host);
  e.signing_name = "s3";
  e.signing_region = "us-east-1";
  return e;
}

ListObjectsV2Params params(std::string scheme, std::string host, std::string bucket) {
  ListObjectsV2Params p;
  p.endpoint = make_endpoint(std::move(scheme), std::move(host));
  p.bucket = std::move(bucket);
  return p;
}

/// A ListBucketResult document around `inner`, in S3's namespace.
std::string page(const std::string& inner) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
         inner + "</ListBucketResult>";
}

std::string contents(const std::string& key, const std::string& size = "10") {
  return "<Contents><Key>" + key + "</Key><Size>" + size + "</Size></Contents>";
}

/// Parses a body expected to be rejected; returns the diagnostics message.
std::string rejected(std::string_view body) {
  Diagnostics diag;
  auto r = parse_list_objects_v2_response(body, diag);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == aws_errc::malformed_response);
  CHECK_FALSE(diag.message.empty());
  return diag.message;
}

}  // namespace

// ------------------------------------------------------------------------------ requests

TEST_CASE("ListObjectsV2 is a virtual-hosted GET / on AWS hosts", "[s3][list_objects]") {
  Diagnostics diag;
  auto req = make_list_objects_v2_request(params("https", "s3.eu-west-1.amazonaws.com", "ct-logs"), diag);
  REQUIRE(req.has_value());
  CHECK(req->method == "GET");
  CHECK(req->scheme == "https");
  CHECK(req->host == "ct-logs.s3.eu-west-1.amazonaws.com");
  CHECK(req->path == "/");
  CHECK(req->query == "encoding-type=url&list-type=2");
  CHECK(req->body.empty());
  CHECK(req->url() == "https://ct-logs.s3.eu-west-1.amazonaws.com/?encoding-type=url&list-type=2");
}

TEST_CASE("ListObjectsV2 goes path-style to /<bucket> for IP endpoints, dotted buckets, or when asked",
          "[s3][list_objects]") {
  Diagnostics diag;
  auto ip = make_list_objects_v2_request(params("http", "127.0.0.1:4568", "ct-logs"), diag);
  REQUIRE(ip.has_value());
  CHECK(ip->scheme == "http");
  CHECK(ip->host == "127.0.0.1:4568");
  CHECK(ip->path == "/ct-logs");
  CHECK(ip->query == "encoding-type=url&list-type=2");

  auto dotted = make_list_objects_v2_request(params("https", "s3.us-east-1.amazonaws.com", "ct.logs.example"), diag);
  REQUIRE(dotted.has_value());
  CHECK(dotted->host == "s3.us-east-1.amazonaws.com");
  CHECK(dotted->path == "/ct.logs.example");

  auto p = params("https", "s3.us-east-1.amazonaws.com", "ct-logs");
  p.force_path_style = true;
  auto forced = make_list_objects_v2_request(p, diag);
  REQUIRE(forced.has_value());
  CHECK(forced->host == "s3.us-east-1.amazonaws.com");
  CHECK(forced->path == "/ct-logs");

  p.endpoint.base_path = "/custom";
  auto based = make_list_objects_v2_request(p, diag);
  REQUIRE(based.has_value());
  CHECK(based->path == "/custom/ct-logs");
  p.force_path_style = false;
  auto based_vhost = make_list_objects_v2_request(p, diag);
  REQUIRE(based_vhost.has_value());
  CHECK(based_vhost->host == "ct-logs.s3.us-east-1.amazonaws.com");
  CHECK(based_vhost->path == "/custom/");
}

TEST_CASE("ListObjectsV2 query: every parameter, sorted, values encoded the SigV4 way", "[s3][list_objects]") {
  Diagnostics diag;
  auto p = params("https", "s3.us-east-1.amazonaws.com", "ct-logs");
  p.prefix = "AWSLogs/o-1/a b+c/\xC3\xA9t\xC3\xA9";
  p.delimiter = "/";
  p.continuation_token = "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+x";
  p.start_after = "AWSLogs/~x";
  p.max_keys = 50;
  auto req = make_list_objects_v2_request(p, diag);
  REQUIRE(req.has_value());
  CHECK(req->query ==
        "continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D%2Bx"
        "&delimiter=%2F"
        "&encoding-type=url"
        "&list-type=2"
        "&max-keys=50"
        "&prefix=AWSLogs%2Fo-1%2Fa%20b%2Bc%2F%C3%A9t%C3%A9"
        "&start-after=AWSLogs%2F~x");
  // The raw query is already canonical, and the signer reads back exactly the values given.
  CHECK(sigv4::canonical_query_string(req->query) == req->query);
  auto parsed = sigv4::parse_query(req->query);
  REQUIRE(parsed.size() == 7);
  CHECK(parsed[0].value == p.continuation_token);
  CHECK(parsed[5].value == p.prefix);
}

TEST_CASE("ListObjectsV2 leaves out empty parameters and max-keys 1000", "[s3][list_objects]") {
  Diagnostics diag;
  auto p = params("https", "s3.us-east-1.amazonaws.com", "ct-logs");
  p.prefix = "AWSLogs/";
  p.max_keys = 1000;
  auto req = make_list_objects_v2_request(p, diag);
  REQUIRE(req.has_value());
  CHECK(req->query == "encoding-type=url&list-type=2&prefix=AWSLogs%2F");
  p.max_keys = 1;
  req = make_list_objects_v2_request(p, diag);
  REQUIRE(req.has_value());
  CHECK(req->query == "encoding-type=url&list-type=2&max-keys=1&prefix=AWSLogs%2F");
}

TEST_CASE("ListObjectsV2 rejects a missing bucket or endpoint and max_keys outside 1..1000", "[s3][list_objects]") {
  Diagnostics diag;
  auto p = params("https", "s3.us-east-1.amazonaws.com", "");
  auto r = make_list_objects_v2_request(p, diag);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == client_errc::invalid_argument);
  CHECK(diag.message.find("bucket is empty") != std::string::npos);

  p = params("https", "", "ct-logs");
  r = make_list_objects_v2_request(p, diag);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == client_errc::invalid_argument);
  CHECK(diag.message.find("endpoint") != std::string::npos);

  p = params("ftp", "s3.us-east-1.amazonaws.com", "ct-logs");
  r = make_list_objects_v2_request(p, diag);
  REQUIRE_FALSE(r.has_value());
  CHECK(diag.message.find("endpoint") != std::string::npos);

  for (int bad : {0, -1, 1001, 100000}) {
    p = params("https", "s3.us-east-1.amazonaws.com", "ct-logs");
    p.max_keys = bad;
    r = make_list_objects_v2_request(p, diag);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == client_errc::invalid_argument);
    CHECK(diag.message.find("max_keys " + std::to_string(bad)) != std::string::npos);
  }
}

// ------------------------------------------------------------------------------ pages

TEST_CASE("ListObjectsV2 page in the shape of the AWS documentation's example", "[s3][list_objects]") {
  const std::string body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
    <Name>example-bucket</Name>
    <Prefix></Prefix>
    <KeyCount>2</KeyCount>
    <MaxKeys>1000</MaxKeys>
    <IsTruncated>false</IsTruncated>
    <Contents>
        <Key>AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/file1.json.gz</Key>
        <LastModified>2024-05-01T12:00:00.000Z</LastModified>
        <ETag>&quot;599bab3ed2c697f1d26842727561fd94&quot;</ETag>
        <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>
        <Size>857</Size>
        <Owner>
            <ID>0123456789abcdef</ID>
            <DisplayName>owner</DisplayName>
        </Owner>
        <StorageClass>STANDARD</StorageClass>
    </Contents>
    <Contents>
        <Key>AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/file2.json.gz</Key>
        <LastModified>2024-05-01T12:05:00.000Z</LastModified>
        <ETag>"9b2cf535f27731c974343645a3985328-2"</ETag>
        <Size>18446744073709551615</Size>
        <StorageClass>GLACIER</StorageClass>
    </Contents>
</ListBucketResult>)";
  Diagnostics diag;
  auto r = parse_list_objects_v2_response(body, diag);
  REQUIRE(r.has_value());
  CHECK(diag.message.empty());
  CHECK_FALSE(r->is_truncated);
  CHECK(r->next_continuation_token.empty());
  CHECK(r->prefix.empty());
  CHECK(r->key_count == 2);
  CHECK(r->common_prefixes.empty());
  REQUIRE(r->objects.size() == 2);
  CHECK(r->objects[0].key == "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/file1.json.gz");
  CHECK(r->objects[0].size == 857);
  CHECK(r->objects[0].etag == "599bab3ed2c697f1d26842727561fd94");
  CHECK(r->objects[0].last_modified == "2024-05-01T12:00:00.000Z");
  CHECK(r->objects[0].storage_class == "STANDARD");
  CHECK(r->objects[1].key == "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/file2.json.gz");
  CHECK(r->objects[1].size == 18446744073709551615ULL);
  CHECK(r->objects[1].etag == "9b2cf535f27731c974343645a3985328-2");
  CHECK(r->objects[1].storage_class == "GLACIER");
}

TEST_CASE("ListObjectsV2 truncated page keeps the continuation token exactly", "[s3][list_objects]") {
  const std::string body =
      page("<Name>b</Name><Prefix>AWSLogs/</Prefix><MaxKeys>2</MaxKeys><EncodingType>url</EncodingType>"
           "<IsTruncated>true</IsTruncated>" +
           contents("AWSLogs/a") + contents("AWSLogs/b") +
           "<KeyCount>2</KeyCount>"
           "<NextContinuationToken>1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI/EyIJg==+a%2B</NextContinuationToken>");
  Diagnostics diag;
  auto r = parse_list_objects_v2_response(body, diag);
  REQUIRE(r.has_value());
  CHECK(r->is_truncated);
  CHECK(r->next_continuation_token == "1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI/EyIJg==+a%2B");
  CHECK(r->prefix == "AWSLogs/");
  CHECK(r->key_count == 2);
  REQUIRE(r->objects.size() == 2);
  CHECK(r->objects[1].key == "AWSLogs/b");
  CHECK(r->objects[1].size == 10);
}

TEST_CASE("ListObjectsV2 common prefixes with a delimiter, url-decoded", "[s3][list_objects]") {
  const std::string body =
      page("<Name>b</Name><Prefix>AWSLogs%2F</Prefix><Delimiter>%2F</Delimiter><MaxKeys>1000</MaxKeys>"
           "<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>" +
           contents("AWSLogs%2Ftop+level.json") +
           "<CommonPrefixes><Prefix>AWSLogs%2F111122223333%2F</Prefix></CommonPrefixes>"
           "<CommonPrefixes><Prefix>AWSLogs%2Fo-abc+def%2F</Prefix></CommonPrefixes>"
           "<KeyCount>3</KeyCount>");
  Diagnostics diag;
  auto r = parse_list_objects_v2_response(body, diag);
  REQUIRE(r.has_value());
  CHECK(r->prefix == "AWSLogs/");
  REQUIRE(r->objects.size() == 1);
  CHECK(r->objects[0].key == "AWSLogs/top level.json");
  REQUIRE(r->common_prefixes.size() == 2);
  CHECK(r->common_prefixes[0] == "AWSLogs/111122223333/");
  CHECK(r->common_prefixes[1] == "AWSLogs/o-abc def/");
  CHECK(r->key_count == 3);
}

TEST_CASE("ListObjectsV2 EncodingType url decodes keys like unquote_plus", "[s3][list_objects]") {
  // EncodingType after the entries it concerns: decoding does not depend on element order.
  const std::string body =
      page(contents("a+b%2Bc%20d") + contents("%C3%A9t%C3%A9%2F%25") + contents("x&amp;y%3C") +
           "<IsTruncated>false</IsTruncated><EncodingType>url</EncodingType>");
  Diagnostics diag;
  auto r = parse_list_objects_v2_response(body, diag);
  REQUIRE(r.has_value());
  REQUIRE(r->objects.size() == 3);
  CHECK(r->objects[0].key == "a b+c d");
  CHECK(r->objects[1].key == "\xC3\xA9t\xC3\xA9/%");
  CHECK(r->objects[2].key == "x&y<");
  CHECK(r->key_count == 3);  // no <KeyCount>: the number of entries
}

TEST_CASE("ListObjectsV2 without EncodingType takes keys as they are (s3rver)", "[s3][list_objects]") {
  // s3rver's shape: its own namespace, <Prefix/>, KeyCount before MaxKeys, quoted ETag entities.
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://doc.s3.amazonaws.com/2006-03-01/\"><Name>ct-logs</Name><Prefix/>"
      "<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a+b%2Bc%20d</Key><LastModified>2024-05-01T12:00:00.000Z</LastModified>"
      "<ETag>&quot;abc&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>"
      "<Contents><Key>100% sure &amp; more</Key><Size>0</Size></Contents>"
      "</ListBucketResult>";
  Diagnostics diag;
  auto r = parse_list_objects_v2_response(body, diag);
  REQUIRE(r.has_value());
  REQUIRE(r->objects.size() == 2);
  CHECK(r->objects[0].key == "a+b%2Bc%20d");
  CHECK(r->objects[0].etag == "abc");
  CHECK(r->objects[0].size == 3);
  CHECK(r->objects[1].key == "100% sure & more");
  CHECK(r->objects[1].size == 0);
  CHECK(r->objects[1].etag.empty());
  CHECK(r->prefix.empty());
}

TEST_CASE("ListObjectsV2 accepts prefixed names, comments, CDATA and an empty listing", "[s3][list_objects]") {
  Diagnostics diag;
  auto r = parse_list_objects_v2_response(
      "<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\"><!-- <Contents> -->"
      "<s3:Contents><s3:Key><![CDATA[a<b>&c]]></s3:Key><s3:Size> 7 </s3:Size></s3:Contents>"
      "</s3:ListBucketResult>\n",
      diag);
  REQUIRE(r.has_value());
  REQUIRE(r->objects.size() == 1);
  CHECK(r->objects[0].key == "a<b>&c");
  CHECK(r->objects[0].size == 7);

  auto empty = parse_list_objects_v2_response(page("<Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"), diag);
  REQUIRE(empty.has_value());
  CHECK(empty->objects.empty());
  CHECK(empty->common_prefixes.empty());
  CHECK(empty->key_count == 0);
  CHECK_FALSE(empty->is_truncated);
}

TEST_CASE("ListObjectsV2 reads only top-level Prefix, not the one inside CommonPrefixes", "[s3][list_objects]") {
  Diagnostics diag;
  auto r = parse_list_objects_v2_response(
      page("<CommonPrefixes><Prefix>deep/</Prefix></CommonPrefixes><Prefix>top</Prefix>"), diag);
  REQUIRE(r.has_value());
  CHECK(r->prefix == "top");
  REQUIRE(r->common_prefixes.size() == 1);
  CHECK(r->common_prefixes[0] == "deep/");
}

// ------------------------------------------------------------------------------ errors

TEST_CASE("ListObjectsV2 rejects documents that are not a ListBucketResult", "[s3][list_objects]") {
  CHECK(rejected("").find("ListBucketResult") != std::string::npos);
  CHECK(rejected("not xml at all").find("ListBucketResult") != std::string::npos);
  CHECK(rejected("<Error><Code>AccessDenied</Code></Error>").find("<Error>") != std::string::npos);
  CHECK(rejected("<ListAllMyBucketsResult></ListAllMyBucketsResult>").find("ListAllMyBucketsResult") !=
        std::string::npos);
  // A ListBucketResult nested in another document is not a listing either.
  CHECK(rejected("<Wrapper><ListBucketResult></ListBucketResult></Wrapper>").find("<Wrapper>") != std::string::npos);
  // A cut body (connection dropped mid-answer) is not a shorter page.
  auto full = page(contents("a") + contents("b"));
  CHECK(rejected(full.substr(0, full.find("</ListBucketResult>"))).find("<ListBucketResult> is not closed") !=
        std::string::npos);
  CHECK(rejected(full.substr(0, full.size() - 5)).find("ListBucketResult") != std::string::npos);
  CHECK(rejected(full.substr(0, full.find("<Size>", 100))).find("not closed") != std::string::npos);
  CHECK(rejected(page("<Contents><Key>a</Key></Contents")).find("unreadable close tag") != std::string::npos);
  CHECK(rejected(page("<Contents><Key>a</Key></Contents>") + "<ListBucketResult/>").find("after") != std::string::npos);
  CHECK(rejected(page("<Contents><Key>a</Size></Contents>")).find("closed by another tag") != std::string::npos);
}

TEST_CASE("ListObjectsV2 rejects a <Contents> without <Key>", "[s3][list_objects]") {
  auto msg = rejected(page(contents("a") + "<Contents><Size>5</Size><ETag>x</ETag></Contents>"));
  CHECK(msg.find("<Contents> #2 has no <Key>") != std::string::npos);
  CHECK(msg.find("<Size>5</Size>") != std::string::npos);
}

TEST_CASE("ListObjectsV2 rejects a <Size> that is not a non-negative integer", "[s3][list_objects]") {
  for (std::string bad : {"-1", "", "12a", "1.5", "0x10", "18446744073709551616", "+3"}) {
    CAPTURE(bad);
    auto msg = rejected(page(contents("a", bad)));
    CHECK(msg.find("<Size> of <Contents> #1") != std::string::npos);
    CHECK(msg.find("\"" + bad + "\"") != std::string::npos);
  }
  // The quoted text is at most 64 bytes.
  auto msg = rejected(page(contents("a", std::string(500, 'x'))));
  CHECK(msg.find(std::string(64, 'x') + "...") != std::string::npos);
  CHECK(msg.find(std::string(65, 'x')) == std::string::npos);
  CHECK(rejected(page("<KeyCount>many</KeyCount>")).find("<KeyCount>") != std::string::npos);
}

TEST_CASE("ListObjectsV2 rejects bad %-escapes when url-encoded", "[s3][list_objects]") {
  const std::string enc = "<EncodingType>url</EncodingType>";
  CHECK(rejected(page(enc + contents("a%2"))).find("bad %-escape in <Key> of <Contents> #1") != std::string::npos);
  CHECK(rejected(page(enc + contents("a%zz"))).find("\"a%zz\"") != std::string::npos);
  CHECK(rejected(page(enc + contents("ok") + contents("%"))).find("<Contents> #2") != std::string::npos);
  CHECK(rejected(page(enc + "<Prefix>p%G0</Prefix>")).find("<Prefix>") != std::string::npos);
  CHECK(rejected(page(enc + "<CommonPrefixes><Prefix>x%</Prefix></CommonPrefixes>")).find("<CommonPrefixes> #1") !=
        std::string::npos);
  // The same keys without EncodingType are just keys.
  Diagnostics diag;
  CHECK(parse_list_objects_v2_response(page(contents("a%2") + contents("%")), diag).has_value());
}

TEST_CASE("ListObjectsV2 rejects IsTruncated true without NextContinuationToken", "[s3][list_objects]") {
  CHECK(rejected(page("<IsTruncated>true</IsTruncated>" + contents("a"))).find("NextContinuationToken") !=
        std::string::npos);
  CHECK(rejected(page("<IsTruncated>true</IsTruncated><NextContinuationToken></NextContinuationToken>"))
            .find("NextContinuationToken") != std::string::npos);
  CHECK(rejected(page("<IsTruncated>maybe</IsTruncated>")).find("\"maybe\"") != std::string::npos);
}

TEST_CASE("ListObjectsV2 caps the entries of a page at 1000 + 1000", "[s3][list_objects]") {
  std::string objects, prefixes;
  for (int i = 0; i < 1000; ++i) {
    // Built with append: GCC 12 warns falsely (-Wrestrict) on "literal" + std::to_string(...).
    const std::string n = std::to_string(i);
    objects += contents(std::string("k").append(n));
    prefixes.append("<CommonPrefixes><Prefix>p").append(n).append("/</Prefix></CommonPrefixes>");
  }
  Diagnostics diag;
  auto full = parse_list_objects_v2_response(page(objects + prefixes), diag);
  REQUIRE(full.has_value());
  CHECK(full->objects.size() == 1000);
  CHECK(full->common_prefixes.size() == 1000);
  CHECK(full->objects[999].key == "k999");
  CHECK(rejected(page(objects + contents("one-more"))).find("more than 1000 <Contents>") != std::string::npos);
  CHECK(rejected(page(prefixes + "<CommonPrefixes><Prefix>x</Prefix></CommonPrefixes>"))
            .find("more than 1000 <CommonPrefixes>") != std::string::npos);
}

TEST_CASE("ListObjectsV2 parsing stays linear on deep or repetitive input", "[s3][list_objects]") {
  // 200k nested elements inside one entry and 100k unclosed opens: both answered quickly.
  std::string deep = "<Contents><Key>k</Key>";
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  for (int i = 0; i < 100000; ++i) deep += "</a>";
  deep += "</Contents>";
  Diagnostics diag;
  auto r = parse_list_objects_v2_response(page(deep), diag);
  REQUIRE(r.has_value());
  CHECK(r->objects.size() == 1);
  std::string open = "<ListBucketResult>";
  for (int i = 0; i < 100000; ++i) open += "<Contents>";
  CHECK(rejected(open).find("not closed") != std::string::npos);
}
