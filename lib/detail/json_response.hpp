// Private helpers shared by the JSON protocol modules (sqs, dynamodb): the POST request of the
// JSON 1.0 protocol, a 2xx body read as a JSON object, and the malformed-response error.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/transport/http.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace ctsqs::detail {

/// POST <endpoint's base path>/ with Content-Type application/x-amz-json-1.0, X-Amz-Target
/// `target` ("AmazonSQS.ReceiveMessage") and `body` serialized.
HttpRequest json_post_request(const Endpoint& endpoint, std::string target, const boost::json::object& body);

/// aws_errc::malformed_response; diag cleared, then the response's status and x-amzn-RequestId
/// and "<service> <op> response: <what>; body starts <quoted start of the body>".
error_code malformed_response(Diagnostics& diag, const HttpResponse& res, std::string_view service,
                              std::string_view op, std::string what);

/// The body of a successful response as a JSON object (an empty or blank body counts as {});
/// malformed_response() when it is not JSON or not an object. The caller checks the status first.
result<boost::json::object> parse_object_body(const HttpResponse& res, std::string_view service, std::string_view op,
                                              Diagnostics& diag);

}  // namespace ctsqs::detail
