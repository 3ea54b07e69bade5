// The JSON 1.0 protocol's request, a 2xx body read as an object, and the malformed-response error
// (sqs, dynamodb).
#include "json_response.hpp"

#include "protocol_util.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ctsqs::detail {

HttpRequest json_post_request(const Endpoint& endpoint, std::string target, const boost::json::object& body) {
  HttpRequest req;
  req.method = "POST";
  req.scheme = endpoint.scheme;
  req.host = endpoint.host;
  req.path = endpoint.base_path + "/";
  req.headers = {{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", std::move(target)}};
  req.body = boost::json::serialize(body);
  return req;
}

error_code malformed_response(Diagnostics& diag, const HttpResponse& res, std::string_view service,
                              std::string_view op, std::string what) {
  diag.clear();
  diag.http_status = res.status;
  diag.request_id = std::string(res.header("x-amzn-RequestId"));
  diag.message = std::string(service) + " " + std::string(op) + " response: " + what + "; body starts " +
                 quote_start(res.body);
  return make_error_code(aws_errc::malformed_response);
}

result<boost::json::object> parse_object_body(const HttpResponse& res, std::string_view service, std::string_view op,
                                              Diagnostics& diag) {
  if (res.body.find_first_not_of(" \t\r\n") == std::string::npos) return boost::json::object{};
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(res.body, ec);
  if (ec) return malformed_response(diag, res, service, op, "not JSON (" + ec.message() + ")");
  if (!v.is_object()) return malformed_response(diag, res, service, op, "not a JSON object");
  return std::move(v.as_object());
}

}  // namespace ctsqs::detail
