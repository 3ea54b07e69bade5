// SigV4 signing entry point: sign an HttpRequest in place (header or query signing).
// The staged functions (canonical request, string to sign, signing key, signature) live in
// sigv4/ headers next to this one.
#pragma once

#include "ctsqs/credentials.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/http.hpp"

#include <chrono>
#include <string>

namespace ctsqs::sigv4 {

/// What to sign with. Time is an input: nothing here reads a clock.
struct SigningParams {
  std::string region;   ///< e.g. "us-east-1"
  std::string service;  ///< signing name, e.g. "sqs", "s3", "sts"
  std::chrono::system_clock::time_point time;  ///< request time (X-Amz-Date)
  bool normalize_path = true;   ///< false for S3 (no normalization, no double encoding)
  bool sign_body = false;       ///< add x-amz-content-sha256 (always true for S3)
  bool omit_session_token = false;  ///< add the token after signing instead of signing it
  bool unsigned_payload = false;    ///< use UNSIGNED-PAYLOAD as the payload hash
  bool query_signing = false;       ///< presign: put the signature in the query string
  std::chrono::seconds expires{900};  ///< X-Amz-Expires for query signing
};

/// Sign `req` in place: adds X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256 (when
/// asked) and Authorization (or the X-Amz-* query parameters for query signing).
result<void> sign(HttpRequest& req, const Credentials& creds, const SigningParams& params);

}  // namespace ctsqs::sigv4
