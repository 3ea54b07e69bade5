// S3 GetObject, sans-I/O: make_get_object_request builds the HttpRequest; parse_error reads S3's XML errors and classifies them.
//
// Addressing follows s3_object_target (endpoints.hpp): virtual-hosted `bucket.s3.<region>...`
// unless path-style is forced, the endpoint is an IP address or localhost, or the bucket is not
// a DNS-safe name (dots over https). Errors: Amazon S3 API Reference, "Error responses"
// (`<Error><Code>..</Code><Message>..</Message><RequestId>..</RequestId>...</Error>`).
#pragma once

#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs::s3 {

/// GetObject parameters.
struct GetObjectParams {
  Endpoint endpoint;          ///< the S3 endpoint of the bucket's region (resolve_endpoint / default_endpoint)
  std::string bucket;
  std::string key;            ///< the real key (already URL-decoded from the notification)
  bool force_path_style = false;
  /// Resume offset: when > 0 the request asks `Range: bytes=<range_start>-`.
  std::uint64_t range_start = 0;
  /// `If-Match` ETag (with or without quotes) so a resumed read cannot mix two versions.
  std::string if_match;
  /// `?versionId=` (URI-encoded): read exactly this version of the object (versioned buckets).
  std::string version_id;
};

/// Builds GET <key> (virtual-hosted or path-style, key URI-encoded byte by byte keeping '/').
/// Fails with client_errc::invalid_argument when bucket, key or endpoint host is empty.
/// Unsigned: the AWS client glue signs it (service "s3", x-amz-content-sha256 added there).
result<HttpRequest> make_get_object_request(const GetObjectParams& params, Diagnostics& diag);

/// The user metadata of a GetObject/HeadObject answer: every `x-amz-meta-<name>` header, by
/// `<name>` lowercased (e.g. CloudTrail digests' "signature" and "signature-algorithm").
std::map<std::string, std::string, std::less<>> user_metadata(const HttpResponse& response);

/// A classified S3 error response.
struct S3Error {
  error_code code;        ///< an aws_errc
  /// The bucket's real region when S3 told it: `x-amz-bucket-region` header, or `<Region>` of
  /// AuthorizationHeaderMalformed. Retry once there (see should_retry_in_region).
  std::string region;
  std::string endpoint;   ///< `<Endpoint>` of a PermanentRedirect/TemporaryRedirect, when given
  bool kms_hint = false;  ///< the response points at SSE-KMS (message, code or encryption header)
};

/// Reads a non-2xx S3 response (GET or HEAD; HEAD errors have no body) for object
/// `s3://bucket/key` and fills `diag` (aws_code, message naming the object, request id from
/// `x-amz-request-id` or `<RequestId>`, status). AccessDenied gets an actionable message: with
/// a KMS hint, that the KMS key policy must grant `kms:Decrypt` to the role; without, that the
/// role needs `s3:GetObject` (and `kms:Decrypt` if the bucket uses SSE-KMS).
S3Error parse_error(const HttpResponse& response, std::string_view bucket, std::string_view key,
                    Diagnostics& diag);

// Whether a failure is the object's own (NoSuchKey, NoSuchBucket, an archived object) or the
// collector's environment (AccessDenied, KMS, credentials, 5xx) is decided in one place for
// every source: ctsqs::is_message_failure (collector.hpp).

/// True when trying again later may succeed (SlowDown, InternalError, 503, timeouts, expired
/// credentials, redirects); see is_retryable_aws_error.
inline bool is_retryable(const error_code& ec) noexcept { return is_retryable_aws_error(ec); }

/// True when `error` is a wrong-region answer (PermanentRedirect, 301, AuthorizationHeaderMalformed)
/// naming a region other than `current_region`: rebuild the request for `error.region` once.
bool should_retry_in_region(const S3Error& error, std::string_view current_region) noexcept;

}  // namespace ctsqs::s3
