// CloudTrail digest files: JSON parsing that names the field at fault, the string to sign, and
// the SHA256withRSA signature check with OpenSSL EVP.
#include "ctsqs/integrity/digest_file.hpp"
#include "../detail/text.hpp"
#include "../detail/error_category.hpp"

#include "ctsqs/aws/sigv4/hash.hpp"
#include "ctsqs/aws/sts.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace ctsqs::integrity {

namespace json = boost::json;

namespace {

const char* describe(integrity_errc e) noexcept {
  switch (e) {
    case integrity_errc::malformed_digest: return "malformed digest file";
    case integrity_errc::no_signature: return "digest file without signature metadata";
    case integrity_errc::unsupported_algorithm: return "unsupported signature algorithm";
    case integrity_errc::unknown_public_key: return "no CloudTrail public key with the digest's fingerprint";
    case integrity_errc::unusable_public_key: return "unusable CloudTrail public key";
    case integrity_errc::bad_signature: return "signature verification failed";
    case integrity_errc::moved: return "digest file moved from its original location";
  }
  return nullptr;
}

error_code malformed(Diagnostics& diag, std::string message) {
  diag.message = std::move(message);
  return make_error_code(integrity_errc::malformed_digest);
}

/// A short, printable quote of untrusted text for an error message.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20 || c == '"') ? '?' : c;
  out += s.size() > 60 ? "...\"" : "\"";
  return out;
}

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
    default: return "a number";
  }
}

/// A required string member.
result<std::string> required_string(const json::object& o, std::string_view field, std::string_view where,
                                    Diagnostics& diag) {
  const auto* v = o.if_contains(field);
  if (!v) return malformed(diag, std::string(where) + ": field " + std::string(field) + " is missing");
  if (!v->is_string())
    return malformed(diag, std::string(where) + ": field " + std::string(field) + " is " + kind_name(*v) +
                               ", not a string");
  return std::string(v->get_string());
}

/// An optional member: absent or null is nullopt, a string its text, anything else an error.
result<std::optional<std::string>> optional_string(const json::object& o, std::string_view field,
                                                   std::string_view where, Diagnostics& diag) {
  const auto* v = o.if_contains(field);
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string())
    return malformed(diag, std::string(where) + ": field " + std::string(field) + " is " + kind_name(*v) +
                               ", not a string or null");
  return std::optional<std::string>(std::string(v->get_string()));
}

result<SysTime> required_time(const std::string& text, std::string_view field, Diagnostics& diag) {
  Diagnostics d;
  auto t = sts::parse_iso8601(text, d);
  if (!t)
    return malformed(diag, "digest: field " + std::string(field) + " is not an ISO 8601 UTC time: " + quote(text));
  return *t;
}

struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct EvpMdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};

using ctsqs::detail::hex_value;

}  // namespace

const boost::system::error_category& integrity_category() noexcept {
  static const detail::EnumErrorCategory<integrity_errc> category("ctsqs.integrity", describe, "integrity error");
  return category;
}

std::string sha256_hex(std::string_view data) { return sigv4::sha256_hex(data); }

result<DigestFile> parse_digest_file(std::string_view text, Diagnostics& diag) {
  boost::system::error_code jec;
  json::value doc = json::parse(text, jec);
  if (jec) return malformed(diag, "digest: not JSON (" + jec.message() + ")");
  if (!doc.is_object()) return malformed(diag, std::string("digest: the document is ") + kind_name(doc) + ", not an object");
  const auto& o = doc.get_object();
  DigestFile d;
  const std::string_view where = "digest";
#define CTSQS_REQ(member, field)                                  \
  {                                                               \
    auto r = required_string(o, field, where, diag);              \
    if (!r) return r.error();                                     \
    d.member = std::move(*r);                                     \
  }
#define CTSQS_OPT(member, field)                                  \
  {                                                               \
    auto r = optional_string(o, field, where, diag);              \
    if (!r) return r.error();                                     \
    d.member = std::move(*r);                                     \
  }
  CTSQS_REQ(aws_account_id, "awsAccountId")
  CTSQS_REQ(digest_start_time, "digestStartTime")
  CTSQS_REQ(digest_end_time, "digestEndTime")
  CTSQS_REQ(digest_s3_bucket, "digestS3Bucket")
  CTSQS_REQ(digest_s3_object, "digestS3Object")
  CTSQS_REQ(digest_public_key_fingerprint, "digestPublicKeyFingerprint")
  {
    auto r = optional_string(o, "digestSignatureAlgorithm", where, diag);
    if (!r) return r.error();
    d.digest_signature_algorithm = r->value_or("");
  }
  CTSQS_OPT(newest_event_time, "newestEventTime")
  CTSQS_OPT(oldest_event_time, "oldestEventTime")
  CTSQS_OPT(previous_digest_s3_bucket, "previousDigestS3Bucket")
  CTSQS_OPT(previous_digest_s3_object, "previousDigestS3Object")
  CTSQS_OPT(previous_digest_hash_value, "previousDigestHashValue")
  CTSQS_OPT(previous_digest_hash_algorithm, "previousDigestHashAlgorithm")
  // previousDigestSignature must be present (null starts a chain), as validate-logs requires.
  if (!o.if_contains("previousDigestSignature"))
    return malformed(diag, "digest: field previousDigestSignature is missing (null starts a chain)");
  CTSQS_OPT(previous_digest_signature, "previousDigestSignature")
#undef CTSQS_REQ
#undef CTSQS_OPT
  auto start = required_time(d.digest_start_time, "digestStartTime", diag);
  if (!start) return start.error();
  auto end = required_time(d.digest_end_time, "digestEndTime", diag);
  if (!end) return end.error();
  d.start = *start;
  d.end = *end;
  if (d.end < d.start) return malformed(diag, "digest: digestEndTime " + quote(d.digest_end_time) +
                                                  " is before digestStartTime " + quote(d.digest_start_time));

  const auto* files = o.if_contains("logFiles");
  if (!files) return malformed(diag, "digest: field logFiles is missing");
  if (!files->is_array()) return malformed(diag, std::string("digest: field logFiles is ") + kind_name(*files) + ", not an array");
  const auto& arr = files->get_array();
  d.log_files.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string at = "digest: logFiles[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) return malformed(diag, at + " is " + kind_name(arr[i]) + ", not an object");
    const auto& lo = arr[i].get_object();
    DigestLogFile lf;
    auto b = required_string(lo, "s3Bucket", at, diag);
    if (!b) return b.error();
    auto k = required_string(lo, "s3Object", at, diag);
    if (!k) return k.error();
    auto h = required_string(lo, "hashValue", at, diag);
    if (!h) return h.error();
    lf.s3_bucket = std::move(*b);
    lf.s3_object = std::move(*k);
    lf.hash_value = std::move(*h);
    for (auto [member, field] : {std::pair{&lf.hash_algorithm, "hashAlgorithm"},
                                 std::pair{&lf.newest_event_time, "newestEventTime"},
                                 std::pair{&lf.oldest_event_time, "oldestEventTime"}}) {
      auto r = optional_string(lo, field, at, diag);
      if (!r) return r.error();
      *member = r->value_or("");
    }
    if (lf.s3_object.empty()) return malformed(diag, at + ": field s3Object is empty");
    d.log_files.push_back(std::move(lf));
  }
  return d;
}

std::string digest_string_to_sign(const DigestFile& d, std::string_view uncompressed_sha256_hex) {
  std::string s;
  s.reserve(d.digest_end_time.size() + d.digest_s3_bucket.size() + d.digest_s3_object.size() + 600);
  s.append(d.digest_end_time).append("\n");
  s.append(d.digest_s3_bucket).append("/").append(d.digest_s3_object).append("\n");
  s.append(uncompressed_sha256_hex).append("\n");
  s.append(d.previous_digest_signature ? *d.previous_digest_signature : std::string("null"));
  return s;
}

result<void> verify_digest_signature(std::string_view string_to_sign, std::string_view signature_hex,
                                     std::string_view public_key_der, Diagnostics& diag) {
  // PKCS#1 RSAPublicKey first (CloudTrail's form), then SubjectPublicKeyInfo.
  const auto* p = reinterpret_cast<const unsigned char*>(public_key_der.data());
  const long len = static_cast<long>(public_key_der.size());
  std::unique_ptr<EVP_PKEY, EvpPkeyFree> key(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
  if (!key) {
    ERR_clear_error();
    p = reinterpret_cast<const unsigned char*>(public_key_der.data());
    key.reset(d2i_PUBKEY(nullptr, &p, len));
    if (key && EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) key.reset();
  }
  if (!key) {
    ERR_clear_error();  // the failed decodes leave their errors on this thread's queue
    diag.message = "the public key is not a DER RSA public key (PKCS#1 or SubjectPublicKeyInfo)";
    return make_error_code(integrity_errc::unusable_public_key);
  }
  if (signature_hex.empty() || signature_hex.size() % 2 != 0) {
    diag.message = "the signature is not hex (" + std::to_string(signature_hex.size()) + " characters)";
    return make_error_code(integrity_errc::bad_signature);
  }
  std::string sig(signature_hex.size() / 2, '\0');
  for (std::size_t i = 0; i < sig.size(); ++i) {
    const int hi = hex_value(signature_hex[2 * i]), lo = hex_value(signature_hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      diag.message = "the signature is not hex";
      return make_error_code(integrity_errc::bad_signature);
    }
    sig[i] = static_cast<char>(hi * 16 + lo);
  }
  std::unique_ptr<EVP_MD_CTX, EvpMdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    diag.message = "OpenSSL could not set up SHA256withRSA verification with this key";
    return make_error_code(integrity_errc::unusable_public_key);
  }
  const int ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                  reinterpret_cast<const unsigned char*>(string_to_sign.data()), string_to_sign.size());
  if (ok != 1) {
    ERR_clear_error();
    diag.message = "signature verification failed";
    return make_error_code(integrity_errc::bad_signature);
  }
  return {};
}

}  // namespace ctsqs::integrity
