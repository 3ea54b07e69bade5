// SigV4 stage 3 and 4: the derived signing key (with a thread-safe cache) and the signature.
#pragma once

#include "ctsqs/aws/sigv4/hash.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace ctsqs::sigv4 {

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
Digest derive_signing_key(std::string_view secret, std::string_view date_stamp,
                          std::string_view region, std::string_view service);

/// Lowercase hex HMAC-SHA256 of the string to sign under the signing key.
std::string make_signature(const Digest& signing_key, std::string_view string_to_sign);

/// Cache of derived signing keys per (secret, date, region, service): a key is valid for one
/// UTC day, so a busy signer derives it once a day instead of four HMACs per request.
/// Thread-safe. The secret itself is not stored: entries are keyed by its SHA-256.
/// Holds at most `capacity` entries; when full it starts over (keys are cheap to derive).
class SigningKeyCache {
 public:
  explicit SigningKeyCache(std::size_t capacity = 64) : capacity_(capacity) {}

  /// The signing key, derived on a miss.
  Digest get(std::string_view secret, std::string_view date_stamp, std::string_view region,
             std::string_view service);

  std::size_t size() const;
  std::uint64_t hits() const;    ///< lookups answered from the cache
  std::uint64_t misses() const;  ///< lookups that derived a key
  void clear();

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  mutable std::mutex mutex_;
  std::map<Key, Digest> entries_;
  std::size_t capacity_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

/// The process-wide cache `sign()` uses unless SigningParams names another.
SigningKeyCache& default_signing_key_cache();

}  // namespace ctsqs::sigv4
