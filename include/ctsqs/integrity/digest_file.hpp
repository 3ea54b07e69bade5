// CloudTrail digest files, sans-I/O: the parsed document, its string to sign, and the
// SHA256withRSA check of its signature against a CloudTrail public key.
//
// Wire format: AWS CloudTrail User Guide, "CloudTrail digest file structure"; the signature and
// its algorithm are the object's user metadata `x-amz-meta-signature` (hex) and
// `x-amz-meta-signature-algorithm`; the string to sign is in "Validating CloudTrail log file
// integrity" (custom implementations). The AWS CLI's `cloudtrail validate-logs` is the
// reference behaviour.
#pragma once

#include "ctsqs/error.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::integrity {

using SysTime = std::chrono::system_clock::time_point;

/// Why a digest or a signature check failed (category "ctsqs.integrity").
enum class integrity_errc : int {
  malformed_digest = 1,   ///< not JSON, a required field absent or of the wrong type (diag names it)
  no_signature,           ///< the object has no x-amz-meta-signature / -algorithm metadata
  unsupported_algorithm,  ///< a signature algorithm other than SHA256withRSA
  unknown_public_key,     ///< ListPublicKeys has no key with the digest's fingerprint
  unusable_public_key,    ///< the key is not a PKCS#1 (or SubjectPublicKeyInfo) DER RSA key
  bad_signature,          ///< the signature does not verify
  moved,                  ///< digestS3Bucket/digestS3Object is not where the digest was found
};

/// The category of integrity_errc.
const boost::system::error_category& integrity_category() noexcept;

inline boost::system::error_code make_error_code(integrity_errc e) noexcept {
  return {static_cast<int>(e), integrity_category()};
}

/// One entry of `logFiles`: a log file delivered in the digest's hour.
struct DigestLogFile {
  std::string s3_bucket;       ///< `s3Bucket`
  std::string s3_object;       ///< `s3Object`
  std::string hash_value;      ///< `hashValue`: hex SHA-256 of the uncompressed log file
  std::string hash_algorithm;  ///< `hashAlgorithm` ("SHA-256")
  std::string newest_event_time;  ///< `newestEventTime` ("" when absent)
  std::string oldest_event_time;  ///< `oldestEventTime` ("" when absent)
};

/// A parsed digest file. Times keep the text the digest holds (the signature covers
/// `digestEndTime` as written) next to their parsed value.
struct DigestFile {
  std::string aws_account_id;               ///< `awsAccountId`
  std::string digest_start_time;            ///< `digestStartTime`, e.g. "2015-08-17T14:01:31Z"
  std::string digest_end_time;              ///< `digestEndTime`
  SysTime start{};                          ///< digestStartTime parsed
  SysTime end{};                            ///< digestEndTime parsed
  std::string digest_s3_bucket;             ///< `digestS3Bucket`: where CloudTrail wrote it
  std::string digest_s3_object;             ///< `digestS3Object`
  std::string digest_public_key_fingerprint;  ///< `digestPublicKeyFingerprint`
  std::string digest_signature_algorithm;   ///< `digestSignatureAlgorithm` ("" when absent)
  std::optional<std::string> newest_event_time;  ///< `newestEventTime` (null without log files)
  std::optional<std::string> oldest_event_time;  ///< `oldestEventTime`
  std::optional<std::string> previous_digest_s3_bucket;      ///< null on the first digest of a chain
  std::optional<std::string> previous_digest_s3_object;
  std::optional<std::string> previous_digest_hash_value;     ///< hex SHA-256 of the previous digest
  std::optional<std::string> previous_digest_hash_algorithm;
  /// `previousDigestSignature`: null when the chain starts (first digest, or logging/validation
  /// was off before it).
  std::optional<std::string> previous_digest_signature;
  std::vector<DigestLogFile> log_files;     ///< `logFiles` (may be empty: an hour without logs)
};

/// Parses the uncompressed JSON of a digest file. Required: awsAccountId, digestStartTime,
/// digestEndTime (ISO 8601 UTC), digestS3Bucket, digestS3Object, digestPublicKeyFingerprint,
/// previousDigestSignature (string or null) and logFiles (array of objects with s3Bucket,
/// s3Object and hashValue). Errors (integrity_errc::malformed_digest) name the field and what
/// was wrong; the document text is never echoed beyond a short quote.
result<DigestFile> parse_digest_file(std::string_view json, Diagnostics& diag);

/// The string CloudTrail signs: `digestEndTime`, `digestS3Bucket/digestS3Object`, the hex
/// SHA-256 of the uncompressed digest, and `previousDigestSignature` (or "null"), joined by '\n'.
std::string digest_string_to_sign(const DigestFile& digest, std::string_view uncompressed_sha256_hex);

/// Verifies a SHA256withRSA (PKCS#1 v1.5) signature, given as hex (the form of
/// `x-amz-meta-signature`), over `string_to_sign` with `public_key_der`: the DER bytes of a
/// PKCS#1 RSAPublicKey (what ListPublicKeys hands out, once base64-decoded); a
/// SubjectPublicKeyInfo DER key is accepted too. Errors: unusable_public_key, bad_signature
/// (also for a signature that is not hex). Uses OpenSSL EVP; thread-safe.
result<void> verify_digest_signature(std::string_view string_to_sign, std::string_view signature_hex,
                                     std::string_view public_key_der, Diagnostics& diag);

/// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace ctsqs::integrity

template <>
struct boost::system::is_error_code_enum<ctsqs::integrity::integrity_errc> : std::true_type {};
