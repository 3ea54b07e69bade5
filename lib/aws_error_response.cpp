// AWS error response parsing (XML and JSON) of any service, and its classification.
#include "ctsqs/aws/error_response.hpp"

#include "detail/xml_reader.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace ctsqs {
namespace {

bool contains_ci(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

bool in(std::string_view code, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

std::string json_string(const boost::json::object& o, std::initializer_list<std::string_view> keys) {
  for (auto k : keys) {
    auto it = o.find(k);
    if (it != o.end() && it->value().is_string()) return std::string(it->value().get_string());
  }
  return {};
}

}  // namespace

AwsError parse_aws_error(const HttpResponse& response) {
  AwsError e;
  e.http_status = response.status;
  e.request_id = std::string(response.header("x-amzn-RequestId"));
  if (e.request_id.empty()) e.request_id = std::string(response.header("x-amz-request-id"));
  e.bucket_region = std::string(response.header("x-amz-bucket-region"));

  std::string_view body = response.body;
  std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '{') {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec);
    if (!ec && v.is_object()) {
      const auto& o = v.get_object();
      e.code = json_string(o, {"__type", "code", "Code"});
      e.message = json_string(o, {"message", "Message", "errorMessage"});
    }
  } else if (first != std::string_view::npos && body[first] == '<') {
    std::string_view scope = body;
    if (auto err = detail::xml_element_inner(body, "Error")) scope = *err;
    e.code = detail::xml_element_text(scope, "Code").value_or("");
    e.message = detail::xml_element_text(scope, "Message").value_or("");
    if (e.request_id.empty()) e.request_id = detail::xml_element_text(body, "RequestId").value_or("");
  }
  // awsJson: "com.amazonaws.sqs#QueueDoesNotExist" or "Code:http://..." -> "Code".
  auto strip = [](std::string code) {
    if (auto hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
    if (auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
    return code;
  };
  e.code = strip(std::move(e.code));
  if (e.code.empty()) e.code = strip(std::string(response.header("x-amzn-ErrorType")));
  // SQS's JSON protocol also names the legacy query code ("AWS.SimpleQueueService.X;Sender").
  if (auto q = response.header("x-amzn-query-error"); !q.empty()) {
    std::string legacy(q.substr(0, q.find(';')));
    if (!legacy.empty() && e.code.empty()) e.code = legacy;
  }
  if (e.code.empty()) {
    switch (response.status) {
      case 301: e.code = "PermanentRedirect"; break;
      case 304: e.code = "NotModified"; break;
      case 400: e.code = "BadRequest"; break;
      case 403: e.code = "Forbidden"; break;
      case 404: e.code = "NotFound"; break;
      case 429: e.code = "TooManyRequests"; break;
      default: e.code = "Http" + std::to_string(response.status); break;
    }
  }
  // Keep messages bounded: some proxies answer with whole HTML pages.
  if (e.message.size() > 1024) e.message.resize(1024);
  return e;
}

aws_errc classify_aws_error(int http_status, std::string_view code, std::string_view message) noexcept {
  const bool expired_sig = contains_ci(message, "Signature expired") ||
                           contains_ci(message, "Signature not yet current");
  if (code == "RequestInTheFuture" ||
      (in(code, {"SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure"}) && expired_sig))
    return aws_errc::clock_skew;
  if (code == "InvalidSignatureException") return aws_errc::signature_mismatch;
  if (code == "AuthFailure" || code == "InvalidToken") return aws_errc::invalid_credentials;
  if (code == "TooManyRequests" || code == "PriorRequestNotComplete") return aws_errc::throttling;
  aws_errc e = aws_errc_from_code(code, http_status);
  if (e == aws_errc::unknown && (code == "Forbidden" || (http_status == 403 && code.starts_with("Http"))))
    return aws_errc::access_denied;
  return e;
}

error_code aws_error_to_code(const AwsError& err, std::string_view context, Diagnostics& diag) {
  diag.aws_code = err.code;
  diag.request_id = err.request_id;
  diag.http_status = err.http_status;
  diag.message = std::string(context);
  if (!err.message.empty()) diag.message += (diag.message.empty() ? "" : ": ") + err.message;
  const aws_errc ec = classify_aws_error(err.http_status, err.code, err.message);
  if ((ec == aws_errc::permanent_redirect || ec == aws_errc::wrong_region) && !err.bucket_region.empty())
    diag.message += " (the bucket is in region " + err.bucket_region + ")";
  return make_error_code(ec);
}

}  // namespace ctsqs
