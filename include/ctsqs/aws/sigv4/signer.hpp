// SigV4 signing entry point: sign an HttpRequest in place (header or query signing).
// The staged functions (canonical request, string to sign, signing key, signature) live in
// sigv4/ headers next to this one.
#pragma once

#include "ctsqs/aws/credentials.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace ctsqs::sigv4 {

class SigningKeyCache;

/// What to sign with. Time is an input: nothing here reads a clock.
/// For service "s3" the AWS rules for S3 always apply: no path normalization, no double
/// encoding, and an x-amz-content-sha256 header (UNSIGNED-PAYLOAD for presigned URLs).
struct SigningParams {
  std::string region;   ///< e.g. "us-east-1"
  std::string service;  ///< signing name, e.g. "sqs", "s3", "sts"
  std::chrono::system_clock::time_point time;  ///< request time (X-Amz-Date)
  bool normalize_path = true;   ///< false for S3 (no normalization, no double encoding)
  bool sign_body = false;       ///< add x-amz-content-sha256 (always true for S3)
  bool omit_session_token = false;  ///< add the token after signing instead of signing it
  bool unsigned_payload = false;    ///< use UNSIGNED-PAYLOAD as the payload hash
  bool query_signing = false;       ///< presign: put the signature in the query string
  std::chrono::seconds expires{900};  ///< X-Amz-Expires for query signing (1 s .. 7 days)
  /// Extra headers (lowercase names) to leave unsigned, beyond the hop-by-hop ones
  /// `is_signable_header` always skips.
  std::vector<std::string> unsigned_headers;
  /// Signing-key cache to use; nullptr means the process-wide default_signing_key_cache().
  SigningKeyCache* key_cache = nullptr;
};

/// Every artifact of one signing, in the AWS test suite's formats: what `ctsqs sign` prints
/// and what to compare when AWS answers SignatureDoesNotMatch.
struct SignedRequest {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       ///< lowercase hex
  std::string signed_headers;  ///< "host;x-amz-date"
  std::string authorization;   ///< the Authorization header value (empty for query signing)
  HttpRequest request;         ///< the request with the signing headers / query parameters added
};

/// Sign a copy of `req` and return every artifact. Adds a Host header from `req.host` when the
/// request has none. Header signing adds, in this order, X-Amz-Security-Token (unless
/// `omit_session_token`, then it comes after Authorization), X-Amz-Date,
/// x-amz-content-sha256 (S3 or `sign_body`, unless already present) and Authorization.
/// Query signing appends X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Expires,
/// -Security-Token and -Signature to the raw query. An x-amz-content-sha256 header already on
/// the request is used as the payload hash. Errors (client_errc::invalid_argument) name the
/// field in `diag`; the secret never appears in any output.
result<SignedRequest> sign_request(const HttpRequest& req, const Credentials& creds,
                                   const SigningParams& params, Diagnostics& diag);

/// Sign `req` in place: adds X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256 (when
/// asked) and Authorization (or the X-Amz-* query parameters for query signing). Errors as
/// sign_request's, `diag` naming the field; `req` is unchanged then.
result<void> sign(HttpRequest& req, const Credentials& creds, const SigningParams& params, Diagnostics& diag);

/// A presigned URL for `req` (query signing with `params.expires`), e.g. an S3 GetObject link.
result<std::string> presign_url(const HttpRequest& req, const Credentials& creds,
                                SigningParams params, Diagnostics& diag);

}  // namespace ctsqs::sigv4
