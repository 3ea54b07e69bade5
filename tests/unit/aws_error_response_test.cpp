// Unit tests for AWS error response parsing (XML and JSON) and classification.
#include "ctsqs/aws/error_response.hpp"

#include "catch.hpp"
#include "catch_result.hpp"

using namespace ctsqs;

namespace {
HttpResponse resp(int status, std::string body, std::vector<HttpHeader> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}
}  // namespace

TEST_CASE("query-protocol XML errors (STS, SQS query)", "[aws_error]") {
  auto e = parse_aws_error(resp(403,
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
      "  <Error><Type>Sender</Type><Code>AccessDenied</Code>\n"
      "    <Message>User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole</Message>\n"
      "  </Error>\n  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n</ErrorResponse>"));
  CHECK(e.http_status == 403);
  CHECK(e.code == "AccessDenied");
  CHECK(e.message == "User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole");
  CHECK(e.request_id == "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
  Diagnostics d;
  auto ec = aws_error_to_code(e, "sts AssumeRole", d);
  CHECK(ec == aws_errc::access_denied);
  CHECK(d.aws_code == "AccessDenied");
  CHECK(d.http_status == 403);
  CHECK(d.request_id == e.request_id);
  CHECK(d.message.starts_with("sts AssumeRole: User:"));
}

TEST_CASE("S3 REST-XML errors with the request id header and bucket region", "[aws_error]") {
  auto e = parse_aws_error(resp(301,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code>"
      "<Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message>"
      "<Bucket>b</Bucket><RequestId>R1</RequestId></Error>",
      {{"x-amz-request-id", "R0"}, {"x-amz-bucket-region", "eu-central-1"}}));
  CHECK(e.code == "PermanentRedirect");
  CHECK(e.request_id == "R0");  // the header wins
  Diagnostics d;
  CHECK(aws_error_to_code(e, "s3 GetObject", d) == aws_errc::permanent_redirect);
  CHECK(d.message.find("eu-central-1") != std::string::npos);
}

TEST_CASE("awsJson errors: __type with namespace, x-amzn-query-error, entities", "[aws_error]") {
  auto e = parse_aws_error(resp(400,
      R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
      {{"x-amzn-RequestId", "abc"}, {"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}}));
  CHECK(e.code == "QueueDoesNotExist");
  CHECK(e.message == "The specified queue does not exist.");
  CHECK(e.request_id == "abc");
  Diagnostics d;
  CHECK(aws_error_to_code(e, "sqs ReceiveMessage", d) == aws_errc::queue_does_not_exist);

  auto t = parse_aws_error(resp(400, R"({"__type":"ThrottlingException:http://internal.amazon.com/","Message":"Rate exceeded"})"));
  CHECK(t.code == "ThrottlingException");
  CHECK(t.message == "Rate exceeded");

  auto hdr = parse_aws_error(resp(400, "{}", {{"x-amzn-ErrorType", "AccessDeniedException:http://x/"}}));
  CHECK(hdr.code == "AccessDeniedException");
  auto legacy = parse_aws_error(resp(400, "", {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}}));
  CHECK(legacy.code == "AWS.SimpleQueueService.NonExistentQueue");
}

TEST_CASE("bodies without an error document get a code from the status", "[aws_error]") {
  CHECK(parse_aws_error(resp(404, "")).code == "NotFound");
  CHECK(parse_aws_error(resp(403, "")).code == "Forbidden");
  CHECK(parse_aws_error(resp(503, "<html>Service Unavailable</html>")).code == "Http503");
  CHECK(parse_aws_error(resp(500, "{not json")).code == "Http500");
  Diagnostics d;
  CHECK(aws_error_to_code(parse_aws_error(resp(403, "")), "s3 HeadObject", d) == aws_errc::access_denied);
  CHECK(aws_error_to_code(parse_aws_error(resp(503, "")), "x", d) == aws_errc::service_unavailable);
  CHECK(aws_error_to_code(parse_aws_error(resp(502, "")), "x", d) == aws_errc::internal_error);
  CHECK(aws_error_to_code(parse_aws_error(resp(429, "")), "x", d) == aws_errc::throttling);
  auto big = parse_aws_error(resp(400, "<Error><Code>X</Code><Message>" + std::string(5000, 'm') + "</Message></Error>"));
  CHECK(big.message.size() == 1024);
}

TEST_CASE("classification refines codes AWS reuses for clock skew", "[aws_error]") {
  CHECK(classify_aws_error(403, "SignatureDoesNotMatch",
                           "Signature expired: 20261128T190000Z is now earlier than 20261128T194500Z") ==
        aws_errc::clock_skew);
  CHECK(classify_aws_error(400, "InvalidSignatureException", "Signature expired: 2026...") == aws_errc::clock_skew);
  CHECK(classify_aws_error(400, "InvalidSignatureException", "The request signature we calculated does not match") ==
        aws_errc::signature_mismatch);
  CHECK(classify_aws_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match") ==
        aws_errc::signature_mismatch);
  CHECK(classify_aws_error(403, "RequestTimeTooSkewed", "") == aws_errc::clock_skew);
  CHECK(classify_aws_error(400, "RequestInTheFuture", "") == aws_errc::clock_skew);
  CHECK(classify_aws_error(400, "ExpiredToken", "") == aws_errc::expired_token);
  CHECK(classify_aws_error(400, "ExpiredTokenException", "") == aws_errc::expired_token);
  CHECK(classify_aws_error(400, "RequestExpired", "") == aws_errc::expired_token);
  CHECK(classify_aws_error(400, "TooManyRequests", "") == aws_errc::throttling);
  CHECK(classify_aws_error(503, "SlowDown", "") == aws_errc::throttling);
  CHECK(classify_aws_error(400, "SomethingNew", "") == aws_errc::unknown);
}
