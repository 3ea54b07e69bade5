// CloudTrail ListPublicKeys, sans-I/O: the request (AWS JSON 1.1, SigV4 service "cloudtrail")
// and its answer, and a key ring that finds a digest's key by fingerprint.
//
// AWS CloudTrail API Reference, "ListPublicKeys": StartTime/EndTime (epoch seconds), NextToken
// paging; each PublicKey has Value (a blob: the DER PKCS#1 public key, base64 in JSON),
// ValidityStartTime, ValidityEndTime and Fingerprint.
#pragma once

#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::integrity {

/// One CloudTrail public key.
struct CloudTrailPublicKey {
  std::string der;          ///< the DER bytes (base64-decoded Value)
  std::string fingerprint;  ///< `Fingerprint` (hex), as digests name it
  std::chrono::system_clock::time_point valid_from{};   ///< `ValidityStartTime`
  std::chrono::system_clock::time_point valid_until{};  ///< `ValidityEndTime`
};

/// The request's parameters.
struct ListPublicKeysParams {
  Endpoint endpoint;  ///< resolve_endpoint(AwsService::cloudtrail, region, ...)
  std::optional<std::chrono::system_clock::time_point> start_time;  ///< `StartTime`
  std::optional<std::chrono::system_clock::time_point> end_time;    ///< `EndTime`
  std::string next_token;  ///< `NextToken` of the previous page, "" for the first
};

/// POST / with `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys`
/// and `Content-Type: application/x-amz-json-1.1`; times as epoch seconds. Unsigned (the AWS
/// client signs it for service "cloudtrail"). Errors: an endpoint that is not http(s).
result<HttpRequest> make_list_public_keys_request(const ListPublicKeysParams& params, Diagnostics& diag);

/// One page of the answer.
struct ListPublicKeysPage {
  std::vector<CloudTrailPublicKey> keys;
  std::string next_token;  ///< "" on the last page
};

/// Parses a 2xx answer body: `{"PublicKeyList":[{"Value":"<base64>","ValidityStartTime":<epoch
/// seconds or ISO 8601>,"ValidityEndTime":...,"Fingerprint":"..."}],"NextToken":"..."}`.
/// Errors (aws_errc::malformed_response) name the field and the key's index.
result<ListPublicKeysPage> parse_list_public_keys_response(std::string_view body, Diagnostics& diag);

/// Keys by fingerprint (the fingerprint compared case-insensitively).
class PublicKeyRing {
 public:
  void add(CloudTrailPublicKey key);
  /// The key with this fingerprint, or nullptr.
  const CloudTrailPublicKey* find(std::string_view fingerprint) const;
  std::size_t size() const noexcept { return keys_.size(); }

 private:
  std::map<std::string, CloudTrailPublicKey, std::less<>> keys_;
};

/// Standard base64 (with or without padding) to bytes; nullopt when not base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ctsqs::integrity
