// Unit tests of the AWS error code table and the retry classification.
#include "ctsqs/aws/error.hpp"

#include "catch.hpp"

using namespace ctsqs;

TEST_CASE("AWS error codes map to aws_errc, status decides unknown codes", "[aws_error]") {
  CHECK(aws_errc_from_code("ThrottlingException", 400) == aws_errc::throttling);
  CHECK(aws_errc_from_code("SlowDown", 503) == aws_errc::throttling);
  CHECK(aws_errc_from_code("RequestThrottled", 403) == aws_errc::throttling);
  CHECK(aws_errc_from_code("AWS.SimpleQueueService.NonExistentQueue", 400) == aws_errc::queue_does_not_exist);
  CHECK(aws_errc_from_code("QueueDoesNotExist", 400) == aws_errc::queue_does_not_exist);
  CHECK(aws_errc_from_code("ReceiptHandleIsInvalid", 400) == aws_errc::receipt_handle_invalid);
  CHECK(aws_errc_from_code("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400) == aws_errc::batch_request_invalid);
  CHECK(aws_errc_from_code("KMS.DisabledException", 400) == aws_errc::kms_error);
  CHECK(aws_errc_from_code("KmsAccessDenied", 400) == aws_errc::kms_error);
  CHECK(aws_errc_from_code("InvalidObjectState", 403) == aws_errc::invalid_object_state);
  CHECK(aws_errc_from_code("AuthorizationHeaderMalformed", 400) == aws_errc::wrong_region);
  CHECK(aws_errc_from_code("SomethingNew", 400) == aws_errc::unknown);
  CHECK(aws_errc_from_code("", 429) == aws_errc::throttling);
  CHECK(aws_errc_from_code("", 503) == aws_errc::service_unavailable);
  CHECK(aws_errc_from_code("", 504) == aws_errc::internal_error);
  CHECK(aws_errc_from_code("", 301) == aws_errc::permanent_redirect);
  CHECK(aws_errc_from_code("", 404) == aws_errc::unknown);
}

TEST_CASE("KMS throttling is throttling, not a permanent KMS error", "[aws_error]") {
  // SQS queues with SSE-KMS answer KmsThrottled when KMS throttles the data-key call; S3
  // passes KMS's own ThrottlingException through with the KMS. prefix. Both pass with a retry.
  for (auto code : {"KmsThrottled", "KMS.ThrottlingException"}) {
    INFO(code);
    CHECK(aws_errc_from_code(code, 400) == aws_errc::throttling);
    CHECK(is_retryable_aws_error(make_error_code(aws_errc_from_code(code, 400))));
  }
  CHECK(aws_errc_from_code("KmsDisabled", 400) == aws_errc::kms_error);
}

TEST_CASE("is_retryable_aws_error: transient yes, client faults no, other categories no", "[aws_error]") {
  for (auto e : {aws_errc::throttling, aws_errc::service_unavailable, aws_errc::internal_error,
                 aws_errc::request_timeout, aws_errc::expired_token, aws_errc::clock_skew,
                 aws_errc::checksum_mismatch, aws_errc::permanent_redirect, aws_errc::over_limit}) {
    INFO(make_error_code(e).message());
    CHECK(is_retryable_aws_error(e));
  }
  for (auto e : {aws_errc::no_such_key, aws_errc::access_denied, aws_errc::queue_does_not_exist,
                 aws_errc::signature_mismatch, aws_errc::invalid_credentials, aws_errc::invalid_request,
                 aws_errc::unknown, aws_errc::receipt_handle_invalid}) {
    INFO(make_error_code(e).message());
    CHECK_FALSE(is_retryable_aws_error(e));
  }
  CHECK_FALSE(is_retryable_aws_error(make_error_code(client_errc::timeout)));
  CHECK(make_error_code(aws_errc::no_such_key).category().name() == std::string("ctsqs.aws"));
  CHECK(make_error_code(aws_errc::no_such_key).message() == "no such key");
}
