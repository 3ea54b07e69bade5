// Test helper: an RSA key made with OpenSSL EVP in the test, and digests signed with it the way
// CloudTrail signs them (SHA256withRSA over the string to sign, hex signature in the metadata).
#pragma once

#include "ctsqs/integrity/chain_walk.hpp"

#include "catch.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

namespace ctsqs::test {

class TrailSigner {
 public:
  explicit TrailSigner(std::string fingerprint = "0123456789abcdef0123456789abcdef") : fingerprint_(std::move(fingerprint)) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr),
                                                                    EVP_PKEY_CTX_free);
    REQUIRE(ctx);
    REQUIRE(EVP_PKEY_keygen_init(ctx.get()) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) == 1);
    EVP_PKEY* k = nullptr;
    REQUIRE(EVP_PKEY_keygen(ctx.get(), &k) == 1);
    key_.reset(k);
  }

  /// PKCS#1 RSAPublicKey DER, as ListPublicKeys hands it out (base64-decoded).
  std::string public_der() const {
    unsigned char* buf = nullptr;
    const int n = i2d_PublicKey(key_.get(), &buf);
    REQUIRE(n > 0);
    std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
    OPENSSL_free(buf);
    return out;
  }
  /// SubjectPublicKeyInfo DER.
  std::string spki_der() const {
    unsigned char* buf = nullptr;
    const int n = i2d_PUBKEY(key_.get(), &buf);
    REQUIRE(n > 0);
    std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
    OPENSSL_free(buf);
    return out;
  }
  const std::string& fingerprint() const { return fingerprint_; }

  integrity::CloudTrailPublicKey public_key() const {
    integrity::CloudTrailPublicKey k;
    k.der = public_der();
    k.fingerprint = fingerprint_;
    return k;
  }

  /// Hex SHA256withRSA signature of `data`.
  std::string sign_hex(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1);
    std::size_t len = 0;
    REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1);
    std::string sig(len, '\0');
    REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1);
    sig.resize(len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : sig) {
      out += hex[c >> 4];
      out += hex[c & 15];
    }
    return out;
  }

 private:
  std::string fingerprint_;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_{nullptr, EVP_PKEY_free};
};

/// A digest as CloudTrail writes it: the uncompressed JSON and its metadata.
struct SignedDigest {
  std::string bucket, key;
  std::string json;
  integrity::ObjectMetadata metadata;
  std::string sha256;
  std::string signature;
};

struct DigestSpec {
  std::string bucket = "trail-bucket";
  std::string key;
  std::string start, end;  ///< ISO, e.g. "2026-11-01T00:00:00Z"
  const SignedDigest* previous = nullptr;  ///< null: the chain starts here
  std::vector<std::pair<std::string, std::string>> logs;  ///< key, hex SHA-256
};

inline SignedDigest sign_digest(const TrailSigner& signer, const DigestSpec& s) {
  namespace json = boost::json;
  json::object o;
  o["awsAccountId"] = "111122223333";
  o["digestStartTime"] = s.start;
  o["digestEndTime"] = s.end;
  o["digestS3Bucket"] = s.bucket;
  o["digestS3Object"] = s.key;
  o["digestPublicKeyFingerprint"] = signer.fingerprint();
  o["digestSignatureAlgorithm"] = "SHA256withRSA";
  o["newestEventTime"] = s.logs.empty() ? json::value(nullptr) : json::value(s.end);
  o["oldestEventTime"] = s.logs.empty() ? json::value(nullptr) : json::value(s.start);
  if (s.previous) {
    o["previousDigestS3Bucket"] = s.previous->bucket;
    o["previousDigestS3Object"] = s.previous->key;
    o["previousDigestHashValue"] = s.previous->sha256;
    o["previousDigestHashAlgorithm"] = "SHA-256";
    o["previousDigestSignature"] = s.previous->signature;
  } else {
    o["previousDigestS3Bucket"] = nullptr;
    o["previousDigestS3Object"] = nullptr;
    o["previousDigestHashValue"] = nullptr;
    o["previousDigestHashAlgorithm"] = nullptr;
    o["previousDigestSignature"] = nullptr;
  }
  json::array files;
  for (const auto& [k, h] : s.logs)
    files.push_back(json::object{{"s3Bucket", s.bucket}, {"s3Object", k}, {"hashValue", h}, {"hashAlgorithm", "SHA-256"},
                                 {"newestEventTime", s.end}, {"oldestEventTime", s.start}});
  o["logFiles"] = std::move(files);
  SignedDigest d;
  d.bucket = s.bucket;
  d.key = s.key;
  d.json = json::serialize(o);
  d.sha256 = integrity::sha256_hex(d.json);
  Diagnostics diag;
  auto parsed = integrity::parse_digest_file(d.json, diag);
  REQUIRE(parsed);
  d.signature = signer.sign_hex(integrity::digest_string_to_sign(*parsed, d.sha256));
  d.metadata = {{"signature", d.signature}, {"signature-algorithm", "SHA256withRSA"}};
  return d;
}

/// `AWSLogs/111122223333/CloudTrail-Digest/us-east-1/YYYY/MM/DD/..._YYYYMMDDTHHMMSSZ.json.gz` for an end time "2026-11-01T05:00:00Z".
inline std::string digest_key(std::string_view end_iso, std::string prefix = "", std::string trail = "main-trail") {
  const std::string y(end_iso.substr(0, 4)), m(end_iso.substr(5, 2)), d(end_iso.substr(8, 2));
  const std::string stamp = y + m + d + "T" + std::string(end_iso.substr(11, 2)) + std::string(end_iso.substr(14, 2)) +
                            std::string(end_iso.substr(17, 2)) + "Z";
  return prefix + "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/" + y + "/" + m + "/" + d +
         "/111122223333_CloudTrail-Digest_us-east-1_" + trail + "_us-east-1_" + stamp + ".json.gz";
}

/// A log key of minute "2026-11-01T05:17".
inline std::string log_key(std::string_view minute_iso, std::string_view id = "abc", std::string prefix = "") {
  const std::string y(minute_iso.substr(0, 4)), m(minute_iso.substr(5, 2)), d(minute_iso.substr(8, 2));
  return prefix + "AWSLogs/111122223333/CloudTrail/us-east-1/" + y + "/" + m + "/" + d + "/111122223333_CloudTrail_us-east-1_" +
         y + m + d + "T" + std::string(minute_iso.substr(11, 2)) + std::string(minute_iso.substr(14, 2)) + "Z_" +
         std::string(id) + ".json.gz";
}

}  // namespace ctsqs::test
