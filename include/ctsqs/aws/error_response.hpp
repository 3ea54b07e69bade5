// AWS error responses of any service: parse XML (query, REST-XML/S3) and JSON (awsJson) error
// bodies into AwsError, and map them to aws_errc (aws_error.hpp) with the human detail.
#pragma once

#include "ctsqs/aws/error.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"

#include <string>
#include <string_view>

namespace ctsqs {

/// An AWS error response, as parsed. Missing parts stay empty. AWS error messages never echo
/// secret keys, so this holds no secrets.
struct AwsError {
  int http_status = 0;
  std::string code;           ///< e.g. "AccessDenied", "AWS.SimpleQueueService.NonExistentQueue"
  std::string message;        ///< at most 1024 bytes
  std::string request_id;
  std::string bucket_region;  ///< S3's x-amz-bucket-region, when present
};

/// Parse the error out of a non-2xx response: JSON (`__type`/`code` + `message`/`Message`,
/// `x-amzn-query-error`, `x-amzn-ErrorType`), XML (`<Error><Code>`, `<ErrorResponse>`), or
/// nothing (HEAD responses, proxies): then the code is derived from the status. Never fails.
AwsError parse_aws_error(const HttpResponse& response);

/// aws_errc_from_code() refined by the message where AWS reuses a code: "Signature expired" /
/// "Signature not yet current" under SignatureDoesNotMatch, InvalidSignatureException or
/// AuthFailure, and RequestInTheFuture, are clock skew; InvalidSignatureException is a
/// signature mismatch; 403 without a known code is access denied; 404 is no_such_key only when
/// the code says so (else unknown).
aws_errc classify_aws_error(int http_status, std::string_view code, std::string_view message) noexcept;

/// Classify `err` and fill `diag` (AWS code, message, request id, HTTP status); `context`
/// (e.g. "sqs ReceiveMessage") prefixes the message.
error_code aws_error_to_code(const AwsError& err, std::string_view context, Diagnostics& diag);

}  // namespace ctsqs
