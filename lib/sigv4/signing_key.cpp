// SigV4 signing key derivation, its cache, and the final signature HMAC.
#include "ctsqs/aws/sigv4/signing_key.hpp"

#include <algorithm>

namespace ctsqs::sigv4 {

Digest derive_signing_key(std::string_view secret, std::string_view date_stamp,
                          std::string_view region, std::string_view service) {
  std::string k = "AWS4";
  k.append(secret);
  Digest k_date = hmac_sha256(k, date_stamp);
  // Wipe the prefixed secret copy; the derived key is what we keep.
  std::fill(k.begin(), k.end(), '\0');
  Digest k_region = hmac_sha256(as_view(k_date), region);
  Digest k_service = hmac_sha256(as_view(k_region), service);
  return hmac_sha256(as_view(k_service), "aws4_request");
}

std::string make_signature(const Digest& signing_key, std::string_view string_to_sign) {
  return to_hex(hmac_sha256(as_view(signing_key), string_to_sign));
}

Digest SigningKeyCache::get(std::string_view secret, std::string_view date_stamp,
                            std::string_view region, std::string_view service) {
  Key key{to_hex(sha256(secret)), std::string(date_stamp), std::string(region), std::string(service)};
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      ++hits_;
      return it->second;
    }
  }
  Digest d = derive_signing_key(secret, date_stamp, region, service);
  std::lock_guard lock(mutex_);
  ++misses_;
  if (entries_.size() >= capacity_) entries_.clear();
  entries_.emplace(std::move(key), d);
  return d;
}

std::size_t SigningKeyCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}
std::uint64_t SigningKeyCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}
std::uint64_t SigningKeyCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}
void SigningKeyCache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

SigningKeyCache& default_signing_key_cache() {
  static SigningKeyCache cache(256);
  return cache;
}

}  // namespace ctsqs::sigv4
