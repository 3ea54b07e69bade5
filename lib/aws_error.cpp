// The aws_errc category, the AWS code → aws_errc table, and the retry classification.
#include "ctsqs/aws/error.hpp"
#include "detail/error_category.hpp"

#include <array>
#include <utility>

namespace ctsqs {
namespace {

const char* describe(aws_errc e) noexcept {
  switch (e) {
    case aws_errc::unknown: return "AWS error";
    case aws_errc::malformed_response: return "malformed AWS response";
    case aws_errc::checksum_mismatch: return "message checksum mismatch";
    case aws_errc::throttling: return "throttled by AWS";
    case aws_errc::service_unavailable: return "AWS service unavailable";
    case aws_errc::internal_error: return "AWS internal error";
    case aws_errc::request_timeout: return "AWS request timeout";
    case aws_errc::access_denied: return "access denied";
    case aws_errc::invalid_credentials: return "invalid AWS credentials";
    case aws_errc::expired_token: return "AWS credentials expired";
    case aws_errc::signature_mismatch: return "request signature rejected";
    case aws_errc::clock_skew: return "request time too skewed";
    case aws_errc::invalid_request: return "invalid request";
    case aws_errc::kms_error: return "KMS key error";
    case aws_errc::queue_does_not_exist: return "queue does not exist";
    case aws_errc::receipt_handle_invalid: return "receipt handle invalid";
    case aws_errc::message_not_inflight: return "message not in flight";
    case aws_errc::batch_request_invalid: return "invalid batch request";
    case aws_errc::over_limit: return "SQS in-flight limit reached";
    case aws_errc::no_such_key: return "no such key";
    case aws_errc::no_such_bucket: return "no such bucket";
    case aws_errc::permanent_redirect: return "bucket is in another region (permanent redirect)";
    case aws_errc::temporary_redirect: return "temporary redirect";
    case aws_errc::wrong_region: return "request signed for the wrong region";
    case aws_errc::invalid_object_state: return "object is archived";
  }
  return nullptr;
}

constexpr std::array<std::pair<std::string_view, aws_errc>, 58> code_table{{
    {"Throttling", aws_errc::throttling},
    {"ThrottlingException", aws_errc::throttling},
    {"ThrottledException", aws_errc::throttling},
    {"RequestThrottled", aws_errc::throttling},
    {"RequestThrottledException", aws_errc::throttling},
    {"TooManyRequestsException", aws_errc::throttling},
    {"ProvisionedThroughputExceededException", aws_errc::throttling},
    {"TransactionInProgressException", aws_errc::throttling},
    {"RequestLimitExceeded", aws_errc::throttling},
    {"BandwidthLimitExceeded", aws_errc::throttling},
    {"LimitExceededException", aws_errc::throttling},
    {"SlowDown", aws_errc::throttling},
    {"EC2ThrottledException", aws_errc::throttling},
    {"ServiceUnavailable", aws_errc::service_unavailable},
    {"ServiceUnavailableException", aws_errc::service_unavailable},
    {"InternalError", aws_errc::internal_error},
    {"InternalFailure", aws_errc::internal_error},
    {"InternalServerError", aws_errc::internal_error},
    {"RequestTimeout", aws_errc::request_timeout},
    {"RequestTimeoutException", aws_errc::request_timeout},
    {"AccessDenied", aws_errc::access_denied},
    {"AccessDeniedException", aws_errc::access_denied},
    {"AuthorizationError", aws_errc::access_denied},
    {"InvalidSecurity", aws_errc::access_denied},
    {"InvalidAccessKeyId", aws_errc::invalid_credentials},
    {"InvalidClientTokenId", aws_errc::invalid_credentials},
    {"UnrecognizedClientException", aws_errc::invalid_credentials},
    {"ExpiredToken", aws_errc::expired_token},
    {"ExpiredTokenException", aws_errc::expired_token},
    {"RequestExpired", aws_errc::expired_token},
    {"SignatureDoesNotMatch", aws_errc::signature_mismatch},
    {"IncompleteSignature", aws_errc::signature_mismatch},
    {"MissingAuthenticationToken", aws_errc::signature_mismatch},
    {"RequestTimeTooSkewed", aws_errc::clock_skew},
    {"InvalidParameterValue", aws_errc::invalid_request},
    {"InvalidParameterCombination", aws_errc::invalid_request},
    {"MissingParameter", aws_errc::invalid_request},
    {"ValidationError", aws_errc::invalid_request},
    {"ValidationException", aws_errc::invalid_request},
    {"InvalidAddress", aws_errc::invalid_request},
    {"InvalidAttributeName", aws_errc::invalid_request},
    {"InvalidArgument", aws_errc::invalid_request},
    {"InvalidRequest", aws_errc::invalid_request},
    {"QueueDoesNotExist", aws_errc::queue_does_not_exist},
    {"AWS.SimpleQueueService.NonExistentQueue", aws_errc::queue_does_not_exist},
    {"ReceiptHandleIsInvalid", aws_errc::receipt_handle_invalid},
    {"MessageNotInflight", aws_errc::message_not_inflight},
    {"AWS.SimpleQueueService.MessageNotInflight", aws_errc::message_not_inflight},
    {"EmptyBatchRequest", aws_errc::batch_request_invalid},
    {"TooManyEntriesInBatchRequest", aws_errc::batch_request_invalid},
    {"BatchEntryIdsNotDistinct", aws_errc::batch_request_invalid},
    {"InvalidBatchEntryId", aws_errc::batch_request_invalid},
    {"OverLimit", aws_errc::over_limit},
    {"NoSuchKey", aws_errc::no_such_key},
    {"NoSuchBucket", aws_errc::no_such_bucket},
    {"PermanentRedirect", aws_errc::permanent_redirect},
    {"TemporaryRedirect", aws_errc::temporary_redirect},
    {"AuthorizationHeaderMalformed", aws_errc::wrong_region},
}};

// Codes beyond the table that need a prefix rule.
bool starts_with(std::string_view s, std::string_view p) noexcept { return s.substr(0, p.size()) == p; }

}  // namespace

const boost::system::error_category& aws_category() noexcept {
  static const detail::EnumErrorCategory<aws_errc> cat("ctsqs.aws", describe, "unknown AWS error");
  return cat;
}

aws_errc aws_errc_from_code(std::string_view code, int http_status) noexcept {
  for (const auto& [name, value] : code_table)
    if (name == code) return value;
  if (code == "IllegalLocationConstraintException") return aws_errc::wrong_region;
  if (code == "InvalidObjectState") return aws_errc::invalid_object_state;
  // KMS throttling (SQS: KmsThrottled; KMS's own code behind S3: KMS.ThrottlingException) passes.
  if (code == "KmsThrottled" || code == "KMS.ThrottlingException") return aws_errc::throttling;
  if (starts_with(code, "KMS.") || starts_with(code, "Kms")) return aws_errc::kms_error;
  if (starts_with(code, "AWS.SimpleQueueService.") && code.find("Batch") != std::string_view::npos)
    return aws_errc::batch_request_invalid;
  if (http_status == 429) return aws_errc::throttling;
  if (http_status == 503) return aws_errc::service_unavailable;
  if (http_status >= 500 && http_status <= 599) return aws_errc::internal_error;
  if (http_status == 301) return aws_errc::permanent_redirect;
  if (http_status == 307) return aws_errc::temporary_redirect;
  return aws_errc::unknown;
}

bool is_retryable_aws_error(const error_code& ec) noexcept {
  if (ec.category() != aws_category()) return false;
  switch (static_cast<aws_errc>(ec.value())) {
    case aws_errc::malformed_response:  // a truncated or garbled body is a transfer problem
    case aws_errc::checksum_mismatch:
    case aws_errc::throttling:
    case aws_errc::service_unavailable:
    case aws_errc::internal_error:
    case aws_errc::request_timeout:
    case aws_errc::expired_token:
    case aws_errc::clock_skew:
    case aws_errc::over_limit:
    case aws_errc::permanent_redirect:
    case aws_errc::temporary_redirect:
    case aws_errc::wrong_region:
      return true;
    default:
      return false;
  }
}

}  // namespace ctsqs
