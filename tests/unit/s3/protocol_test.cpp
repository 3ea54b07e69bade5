// Unit tests of S3 GetObject request building and S3 error classification.
#include "ctsqs/aws/s3/protocol.hpp"

#include "catch.hpp"
#include "ctsqs/collector/collector.hpp"
#include "test_paths.hpp"
#include "unit/catch_result.hpp"

#include <boost/json/parse.hpp>

#include <fstream>
#include <iterator>

using namespace ctsqs;
using namespace ctsqs::s3;

namespace {

Endpoint make_endpoint(std::string scheme, std::string host) {
  Endpoint e;
  e.scheme = std::move(scheme);
  e.host = std::move(host);
  e.signing_name = "s3";
  return e;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

GetObjectParams params(std::string scheme, std::string host, std::string bucket, std::string key) {
  GetObjectParams p;
  p.endpoint = make_endpoint(std::move(scheme), std::move(host));
  p.bucket = std::move(bucket);
  p.key = std::move(key);
  return p;
}

}  // namespace

TEST_CASE("GetObject is virtual-hosted on AWS hosts, key encoded keeping slashes", "[s3]") {
  Diagnostics diag;
  auto req = make_get_object_request(
      params("https", "s3.eu-west-1.amazonaws.com", "ct-logs", "AWSLogs/1/CloudTrail/a b+c=d\xC3\xA9.json.gz"), diag);
  REQUIRE(req.has_value());
  CHECK(req->method == "GET");
  CHECK(req->scheme == "https");
  CHECK(req->host == "ct-logs.s3.eu-west-1.amazonaws.com");
  CHECK(req->path == "/AWSLogs/1/CloudTrail/a%20b%2Bc%3Dd%C3%A9.json.gz");
  CHECK(req->query.empty());
  CHECK(req->find_header("Range") == nullptr);
}

TEST_CASE("GetObject goes path-style for IP endpoints, dotted buckets over https, or when asked", "[s3]") {
  Diagnostics diag;
  auto ip = make_get_object_request(params("http", "127.0.0.1:4568", "ct-logs", "k/x.json.gz"), diag);
  REQUIRE(ip.has_value());
  CHECK(ip->host == "127.0.0.1:4568");
  CHECK(ip->path == "/ct-logs/k/x.json.gz");
  auto dotted = make_get_object_request(params("https", "s3.us-east-1.amazonaws.com", "ct.logs.example", "k"), diag);
  REQUIRE(dotted.has_value());
  CHECK(dotted->host == "s3.us-east-1.amazonaws.com");
  CHECK(dotted->path == "/ct.logs.example/k");
  auto p = params("https", "s3.us-east-1.amazonaws.com", "ct-logs", "k");
  p.force_path_style = true;
  auto forced = make_get_object_request(p, diag);
  REQUIRE(forced.has_value());
  CHECK(forced->path == "/ct-logs/k");
}

TEST_CASE("GetObject resume asks a Range and pins the ETag", "[s3]") {
  Diagnostics diag;
  auto p = params("https", "s3.us-east-1.amazonaws.com", "ct-logs", "k");
  p.range_start = 1048576;
  p.if_match = "0123abcd";
  auto req = make_get_object_request(p, diag);
  REQUIRE(req.has_value());
  CHECK(req->find_header("Range")->value == "bytes=1048576-");
  CHECK(req->find_header("If-Match")->value == "\"0123abcd\"");
  p.bucket.clear();
  auto bad = make_get_object_request(p, diag);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error() == client_errc::invalid_argument);
  CHECK(diag.message.find("bucket") != std::string::npos);
}

TEST_CASE("S3 errors: NoSuchKey is the message's failure, SlowDown/InternalError retryable", "[s3]") {
  Diagnostics diag;
  HttpResponse nsk{404, {{"x-amz-request-id", "REQ1"}},
                   "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"};
  auto e = parse_error(nsk, "ct-logs", "AWSLogs/x.json.gz", diag);
  CHECK(e.code == aws_errc::no_such_key);
  CHECK(is_message_failure(e.code));
  CHECK_FALSE(is_retryable(e.code));
  CHECK(diag.aws_code == "NoSuchKey");
  CHECK(diag.request_id == "REQ1");
  CHECK(diag.http_status == 404);
  CHECK(diag.message.find("s3://ct-logs/AWSLogs/x.json.gz") != std::string::npos);

  for (auto [status, code] : {std::pair{503, "SlowDown"}, std::pair{500, "InternalError"}, std::pair{503, "ServiceUnavailable"}}) {
    HttpResponse r{status, {}, std::string("<Error><Code>") + code + "</Code><Message>m</Message></Error>"};
    auto x = parse_error(r, "b", "k", diag);
    INFO(code);
    CHECK(is_retryable(x.code));
    CHECK_FALSE(is_message_failure(x.code));
  }
  // A HEAD 404 has no body.
  auto head = parse_error(HttpResponse{404, {}, ""}, "b", "k", diag);
  CHECK(head.code == aws_errc::no_such_key);
  // A proxy's HTML page: classified by status, quoted.
  auto proxy = parse_error(HttpResponse{502, {}, "<html>Bad Gateway</html>"}, "b", "k", diag);
  CHECK(proxy.code == aws_errc::internal_error);
  CHECK(diag.message.find("Bad Gateway") != std::string::npos);
}

TEST_CASE("S3 errors: a 403/404 page that is not from S3 does not condemn the object", "[s3]") {
  // A proxy or a wrong endpoint answering its own 404/403 page says nothing about the object:
  // it must not read as NoSuchKey/AccessDenied, which send the message down the poison path.
  Diagnostics diag;
  for (int status : {403, 404}) {
    INFO(status);
    auto e = parse_error(HttpResponse{status, {}, "<html><body>Not here</body></html>"}, "b", "k", diag);
    CHECK_FALSE(is_message_failure(e.code));
    CHECK(diag.message.find("non-S3 body") != std::string::npos);
    auto json = parse_error(HttpResponse{status, {}, R"({"error":"forbidden"})"}, "b", "k", diag);
    CHECK_FALSE(is_message_failure(json.code));
  }
  // S3's own bodiless answers (HEAD) and XML errors keep their meaning.
  CHECK(parse_error(HttpResponse{403, {}, ""}, "b", "k", diag).code == aws_errc::access_denied);
  CHECK(parse_error(HttpResponse{404, {}, "\n"}, "b", "k", diag).code == aws_errc::no_such_key);
}

TEST_CASE("S3 AccessDenied explains what the role needs, with a KMS hint when there is one", "[s3]") {
  Diagnostics diag;
  HttpResponse plain{403, {}, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"};
  auto e = parse_error(plain, "ct-logs", "k", diag);
  CHECK(e.code == aws_errc::access_denied);
  CHECK_FALSE(is_message_failure(e.code));  // the role's or the key policy's: the environment
  CHECK_FALSE(e.kms_hint);
  CHECK(diag.message.find("s3:GetObject") != std::string::npos);

  HttpResponse kms{403, {},
                   "<Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::1:assumed-role/R/s is not authorized "
                   "to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:1:key/abc</Message></Error>"};
  auto k = parse_error(kms, "ct-logs", "k", diag);
  CHECK(k.kms_hint);
  CHECK(diag.message.find("SSE-KMS") != std::string::npos);
  CHECK(diag.message.find("kms:Decrypt to the role") != std::string::npos);

  HttpResponse header_hint{403, {{"x-amz-server-side-encryption", "aws:kms"}}, ""};
  CHECK(parse_error(header_hint, "b", "k", diag).kms_hint);
  HttpResponse kms_code{400, {}, "<Error><Code>KMS.DisabledException</Code><Message>key disabled</Message></Error>"};
  auto kc = parse_error(kms_code, "b", "k", diag);
  CHECK(kc.code == aws_errc::kms_error);
  CHECK_FALSE(is_message_failure(kc.code));
}

TEST_CASE("S3 PermanentRedirect and AuthorizationHeaderMalformed name the bucket's region", "[s3]") {
  Diagnostics diag;
  HttpResponse redirect{301, {{"x-amz-bucket-region", "ap-northeast-1"}},
                        "<Error><Code>PermanentRedirect</Code><Message>Use the endpoint</Message>"
                        "<Endpoint>ant-lab.s3-ap-northeast-1.amazonaws.com</Endpoint></Error>"};
  auto e = parse_error(redirect, "ant-lab", "k", diag);
  CHECK(e.code == aws_errc::permanent_redirect);
  CHECK(e.region == "ap-northeast-1");
  CHECK(e.endpoint == "ant-lab.s3-ap-northeast-1.amazonaws.com");
  CHECK(should_retry_in_region(e, "us-east-1"));
  CHECK_FALSE(should_retry_in_region(e, "ap-northeast-1"));  // followed once already

  HttpResponse wrong{400, {},
                     "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; "
                     "expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>"};
  auto w = parse_error(wrong, "b", "k", diag);
  CHECK(w.code == aws_errc::wrong_region);
  CHECK(should_retry_in_region(w, "us-east-1"));
  HttpResponse no_region{301, {}, ""};
  CHECK_FALSE(should_retry_in_region(parse_error(no_region, "b", "k", diag), "us-east-1"));
}

TEST_CASE("S3 error samples from the shared test data", "[s3][shared]") {
  if (!test::has_shared_testdata()) {
    WARN("shared test data absent: skipped");
    return;
  }
  auto dir = test::shared_testdata_dir() / "notifications" / "s3-errors";
  Diagnostics diag;
  struct Case {
    const char* file;
    int status;
    aws_errc code;
  };
  for (const Case& c : {Case{"AccessDenied.xml", 403, aws_errc::access_denied},
                        Case{"NoSuchKey.xml", 404, aws_errc::no_such_key},
                        Case{"ExpiredToken-craftcms-aws-s3-issue182.xml", 400, aws_errc::expired_token},
                        Case{"PermanentRedirect-appoxy-aws-pr110.xml", 301, aws_errc::permanent_redirect},
                        Case{"RequestTimeTooSkewed-aws-sdk-php-issue612.xml", 403, aws_errc::clock_skew},
                        Case{"RequestTimeTooSkewed-versitygw-issue1514.xml", 403, aws_errc::clock_skew},
                        Case{"SignatureDoesNotMatch-minio-issue2986.excerpt.xml", 403, aws_errc::signature_mismatch}}) {
    INFO(c.file);
    auto e = parse_error(HttpResponse{c.status, {}, read(dir / c.file)}, "bucket", "key", diag);
    CHECK(e.code == c.code);
    CHECK_FALSE(diag.aws_code.empty());
  }
  // PermanentRedirect with its recorded headers: the region comes from x-amz-bucket-region.
  auto headers = boost::json::parse(read(dir / "PermanentRedirect-yanganto-s3rs-issue18.headers.json")).as_object();
  HttpResponse redirect{301, {}, read(dir / "PermanentRedirect-yanganto-s3rs-issue18.xml")};
  for (const auto& [k, v] : headers)
    if (k != "status" && v.is_string()) redirect.headers.push_back({std::string(k), std::string(v.as_string())});
  auto e = parse_error(redirect, "ant-lab", "k", diag);
  CHECK(e.code == aws_errc::permanent_redirect);
  CHECK(e.region == "ap-northeast-1");
  CHECK(diag.request_id == "24035885437204DC");
  CHECK(should_retry_in_region(e, "us-east-1"));
  // TemporaryRedirect (a raw HTTP response): body after the blank line.
  auto raw = read(dir / "TemporaryRedirect.http");
  auto blank = raw.find("\n\n");
  REQUIRE(blank != std::string::npos);
  auto t = parse_error(HttpResponse{307, {}, raw.substr(blank + 2)}, "awsexamplebucket1", "photos/puppy.jpg", diag);
  CHECK(t.code == aws_errc::temporary_redirect);
  CHECK(t.endpoint == "awsexamplebucket1.s3-gztb4pa9sq.amazonaws.com");
  CHECK(is_retryable(t.code));
}

TEST_CASE("S3 errors: one classification, the pipeline's", "[s3]") {
  // AccessDenied and KMS errors are the collector's environment (a role, a key policy): fixing
  // them makes every object readable again, so they never count against a message.
  Diagnostics diag;
  auto code = [&](int status, const char* c) {
    return parse_error(HttpResponse{status, {}, std::string("<Error><Code>") + c + "</Code><Message>m</Message></Error>"},
                       "b", "k", diag)
        .code;
  };
  for (auto [status, c] : {std::pair{403, "AccessDenied"}, std::pair{400, "KMS.DisabledException"},
                           std::pair{400, "InvalidRequest"}, std::pair{503, "SlowDown"}}) {
    INFO(c);
    CHECK_FALSE(is_message_failure(code(status, c)));
  }
  for (auto [status, c] : {std::pair{404, "NoSuchKey"}, std::pair{404, "NoSuchBucket"},
                           std::pair{403, "InvalidObjectState"}}) {
    INFO(c);
    CHECK(is_message_failure(code(status, c)));
  }
}
