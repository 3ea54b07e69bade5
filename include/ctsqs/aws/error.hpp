// aws_errc: AWS error codes (SQS, S3, STS and the common ones) mapped to one project enum, and their classification.
#pragma once

#include "ctsqs/error.hpp"

#include <string_view>

namespace ctsqs {

/// AWS service errors as ctsqs classifies them. The exact AWS code string stays in
/// `Diagnostics::aws_code`; this enum is what code branches on (retry, delete, report).
enum class aws_errc : int {
  unknown = 1,            ///< an AWS error code not mapped below (see Diagnostics::aws_code)
  malformed_response,     ///< a 2xx response whose body is not what the operation returns
  checksum_mismatch,      ///< a received message's MD5OfBody does not match its body
  // Common to every service.
  throttling,             ///< Throttling, ThrottlingException, RequestThrottled, SlowDown, TooManyRequests...
  service_unavailable,    ///< ServiceUnavailable, HTTP 503 without a known code
  internal_error,         ///< InternalError, InternalFailure, HTTP 5xx without a known code
  request_timeout,        ///< RequestTimeout: the server gave up waiting for the request
  access_denied,          ///< AccessDenied, AccessDeniedException, AuthorizationError (see the message)
  invalid_credentials,    ///< InvalidAccessKeyId, InvalidClientTokenId, UnrecognizedClientException
  expired_token,          ///< ExpiredToken, ExpiredTokenException, RequestExpired: refresh credentials
  signature_mismatch,     ///< SignatureDoesNotMatch, IncompleteSignature, MissingAuthenticationToken
  clock_skew,             ///< RequestTimeTooSkewed: correct the clock from the Date header
  invalid_request,        ///< InvalidParameterValue, MissingParameter, ValidationError, InvalidAddress...
  kms_error,              ///< KMS.* / Kms* errors: the KMS key cannot be used (disabled, denied, missing)
  // SQS.
  queue_does_not_exist,   ///< QueueDoesNotExist / AWS.SimpleQueueService.NonExistentQueue
  receipt_handle_invalid, ///< ReceiptHandleIsInvalid: the handle expired or was already used
  message_not_inflight,   ///< MessageNotInflight (ChangeMessageVisibility on a visible message)
  batch_request_invalid,  ///< empty batch, too many entries, duplicate or invalid entry ids
  over_limit,             ///< OverLimit: too many in-flight messages
  // S3.
  no_such_key,            ///< NoSuchKey (also HTTP 404 on GetObject without a body)
  no_such_bucket,         ///< NoSuchBucket
  permanent_redirect,     ///< PermanentRedirect / HTTP 301: the bucket is in another region
  temporary_redirect,     ///< TemporaryRedirect / HTTP 307: retry at the given endpoint
  wrong_region,           ///< AuthorizationHeaderMalformed / IllegalLocationConstraint: signed for the wrong region
  invalid_object_state,   ///< InvalidObjectState: archived (Glacier) object, must be restored first
};

/// The category of aws_errc ("ctsqs.aws").
const boost::system::error_category& aws_category() noexcept;

inline error_code make_error_code(aws_errc e) noexcept { return {static_cast<int>(e), aws_category()}; }

/// Maps an AWS error code string (e.g. "NoSuchKey", "ThrottlingException",
/// "AWS.SimpleQueueService.NonExistentQueue") to aws_errc; `http_status` decides when the code
/// is unknown or empty (429 → throttling, 503 → service_unavailable, other 5xx → internal_error,
/// 404 → unknown). Never returns a success code.
aws_errc aws_errc_from_code(std::string_view code, int http_status) noexcept;

/// True when trying the same request again later may succeed: throttling, 5xx, timeouts,
/// malformed 2xx bodies and checksum mismatches (damage in transit), expired credentials (after a refresh), clock
/// skew (after correcting the clock), redirects (after following them). False for everything
/// else of aws_category, and for error codes of other categories (the transport classifies
/// those).
bool is_retryable_aws_error(const error_code& ec) noexcept;

}  // namespace ctsqs

template <>
struct boost::system::is_error_code_enum<ctsqs::aws_errc> : std::true_type {};
