// Fuzz target: CloudTrail digest files (parse_digest_file, then check_digest and the chain walk
// over the parsed document) and digest keys, over arbitrary bytes. Checks: no exception or
// crash; a parsed digest has its required fields and end >= start; an error is
// malformed_digest with a short message naming the digest; a digest never checks valid without
// a signature that verifies (no key is in the ring, so none may be valid).
#include "ctsqs/integrity/chain_walk.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  using namespace ctsqs::integrity;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    Diagnostics diag;
    auto d = parse_digest_file(text, diag);
    if (d) {
      if (d->end < d->start) __builtin_trap();
      for (const auto& lf : d->log_files)
        if (lf.s3_object.empty()) __builtin_trap();
      (void)digest_string_to_sign(*d, std::string(64, '0'));
      (void)parse_digest_key(d->digest_s3_object);
    } else {
      if (d.error() != integrity_errc::malformed_digest) __builtin_trap();
      if (!diag.message.starts_with("digest") || diag.message.size() > 512) __builtin_trap();
    }
    // The whole check and a walk over it: with an empty key ring nothing may come out valid.
    PublicKeyRing no_keys;
    ObjectMetadata meta{{"signature", "00ff"}, {"signature-algorithm", "SHA256withRSA"}};
    const std::string key = d ? d->digest_s3_object : std::string(text.substr(0, 300));
    const std::string bucket = d ? d->digest_s3_bucket : std::string("b");
    auto c = check_digest(bucket, key, text, meta, no_keys);
    if (c.status == FileStatus::valid) __builtin_trap();
    WalkInput in;
    in.bucket = bucket;
    in.until = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 100);
    in.digests.push_back(c);
    in.logs.push_back({key, {}});
    auto r = walk_digest_chains(in);
    if (!r.logs.empty() || !r.unlisted.empty()) __builtin_trap();
    (void)parse_digest_key(text);
  } catch (...) {
    __builtin_trap();
  }
  return 0;
}
