// S3 GetObject request building and XML error classification (flat element extraction, KMS hints, region redirects).
#include "ctsqs/aws/s3/protocol.hpp"

#include "ctsqs/aws/error_response.hpp"
#include "ctsqs/aws/sigv4/canonical_request.hpp"

#include "../detail/protocol_util.hpp"
#include "../detail/xml_reader.hpp"

#include <cctype>

namespace ctsqs::s3 {
using detail::xml_text_only_element;

namespace {

bool contains_kms(std::string_view s) noexcept {
  for (std::size_t i = 0; i + 3 <= s.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) == 'k' &&
        std::tolower(static_cast<unsigned char>(s[i + 1])) == 'm' &&
        std::tolower(static_cast<unsigned char>(s[i + 2])) == 's')
      return true;
  return false;
}

std::string object_name(std::string_view bucket, std::string_view key) {
  return "s3://" + std::string(bucket) + "/" + std::string(key);
}

}  // namespace

result<HttpRequest> make_get_object_request(const GetObjectParams& p, Diagnostics& diag) {
  auto fail = [&](std::string what) -> result<HttpRequest> {
    diag.clear();
    diag.message = "S3 GetObject: " + std::move(what);
    return make_error_code(client_errc::invalid_argument);
  };
  if (p.bucket.empty()) return fail("bucket is empty");
  if (p.key.empty()) return fail("key is empty (bucket " + p.bucket + ")");
  if (p.endpoint.host.empty() || (p.endpoint.scheme != "https" && p.endpoint.scheme != "http"))
    return fail("endpoint " + detail::quote_start(p.endpoint.url()) + " is not an http(s) endpoint");
  auto target = s3_object_target(p.endpoint, p.bucket, p.key, p.force_path_style);
  HttpRequest req;
  req.method = "GET";
  req.scheme = target.scheme;
  req.host = target.host;
  req.path = target.path;
  if (!p.version_id.empty()) req.query = "versionId=" + sigv4::uri_encode(p.version_id, true);
  if (p.range_start > 0) req.headers.push_back({"Range", "bytes=" + std::to_string(p.range_start) + "-"});
  if (!p.if_match.empty()) {
    std::string etag = p.if_match;
    if (etag.front() != '"') etag = "\"" + etag + "\"";
    req.headers.push_back({"If-Match", std::move(etag)});
  }
  return req;
}

std::map<std::string, std::string, std::less<>> user_metadata(const HttpResponse& response) {
  static constexpr std::string_view prefix = "x-amz-meta-";
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& h : response.headers) {
    if (h.name.size() <= prefix.size() || !iequals(std::string_view(h.name).substr(0, prefix.size()), prefix)) continue;
    std::string name = h.name.substr(prefix.size());
    for (char& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.emplace(std::move(name), h.value);
  }
  return out;
}

S3Error parse_error(const HttpResponse& res, std::string_view bucket, std::string_view key, Diagnostics& diag) {
  diag.clear();
  diag.http_status = res.status;
  S3Error out;
  const std::string_view body = res.body;
  std::string code = xml_text_only_element(body, "Code").value_or("");
  std::string message = xml_text_only_element(body, "Message").value_or("");
  diag.request_id = std::string(res.header("x-amz-request-id"));
  if (diag.request_id.empty()) diag.request_id = xml_text_only_element(body, "RequestId").value_or("");
  // HEAD answers carry no body: S3's status alone says what happened. A body that is not S3's
  // XML (a proxy's or another server's page) says nothing about the object: no code is implied.
  const bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  const bool s3_body = body.find("<Error") != std::string_view::npos;
  if (code.empty() && (blank || s3_body)) {
    switch (res.status) {
      case 301: code = "PermanentRedirect"; break;
      case 307: code = "TemporaryRedirect"; break;
      case 403: code = "AccessDenied"; break;
      case 404: code = "NoSuchKey"; break;
      case 412: code = "PreconditionFailed"; break;
      case 416: code = "InvalidRange"; break;
      default: break;
    }
  }
  diag.aws_code = code;
  auto errc = classify_aws_error(res.status, code, message);
  if (errc == aws_errc::unknown && (code == "PreconditionFailed" || code == "InvalidRange"))
    errc = aws_errc::invalid_request;
  out.code = make_error_code(errc);
  out.region = std::string(res.header("x-amz-bucket-region"));
  if (out.region.empty()) out.region = xml_text_only_element(body, "Region").value_or("");
  out.endpoint = xml_text_only_element(body, "Endpoint").value_or("");
  auto sse = res.header("x-amz-server-side-encryption");
  out.kms_hint = errc == aws_errc::kms_error || contains_kms(message) || contains_kms(code) || contains_kms(sse);

  const std::string object = object_name(bucket, key);
  std::string text = object + ": ";
  if (!message.empty()) text += message;
  else if (!body.empty() && body.find("<Error") == std::string_view::npos)
    text += "HTTP " + std::to_string(res.status) + " with a non-S3 body " + detail::quote_start(body);
  else text += "HTTP " + std::to_string(res.status);
  switch (errc) {
    case aws_errc::access_denied:
    case aws_errc::kms_error:
      if (out.kms_hint)
        text += ". The object is encrypted with SSE-KMS: the KMS key policy must grant kms:Decrypt to the role "
                "ctsqs uses (besides s3:GetObject on arn:aws:s3:::" + std::string(bucket) + "/*)";
      else
        text += ". The role ctsqs uses needs s3:GetObject on arn:aws:s3:::" + std::string(bucket) +
                "/*; if the bucket uses SSE-KMS, also kms:Decrypt on its key";
      break;
    case aws_errc::no_such_key:
      text += " (the object is gone: deleted, expired by lifecycle, or the key in the notification is wrong)";
      break;
    case aws_errc::permanent_redirect:
    case aws_errc::wrong_region:
      if (!out.region.empty()) text += " (the bucket is in " + out.region + ")";
      else if (!out.endpoint.empty()) text += " (endpoint " + out.endpoint + ")";
      break;
    case aws_errc::invalid_object_state:
      text += " (archived storage class: restore the object before ctsqs can read it)";
      break;
    default:
      break;
  }
  diag.message = std::move(text);
  return out;
}

bool should_retry_in_region(const S3Error& error, std::string_view current_region) noexcept {
  if (error.code != aws_errc::permanent_redirect && error.code != aws_errc::wrong_region) return false;
  return !error.region.empty() && error.region != current_region;
}

}  // namespace ctsqs::s3
