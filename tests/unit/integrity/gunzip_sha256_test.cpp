// Unit tests: streaming gunzip + SHA-256 (any chunking, several members, corrupt and truncated
// input, the keep limit) and the user metadata of an S3 answer.
#include "ctsqs/integrity/gunzip_sha256.hpp"

#include "ctsqs/integrity/digest_file.hpp"
#include "ctsqs/aws/s3/protocol.hpp"

#include "../catch_result.hpp"
#include "../gzip_helper.hpp"
#include "catch.hpp"

#include <random>

using namespace ctsqs;
using namespace ctsqs::integrity;

namespace {
std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

result<std::string> hash_in_chunks(std::string_view gz, std::size_t chunk, Diagnostics& d, std::size_t keep = 0,
                                   std::string* kept = nullptr) {
  GunzipSha256 g(keep);
  for (std::size_t i = 0; i < gz.size(); i += chunk)
    if (auto r = g.update(bytes(gz.substr(i, chunk)), d); !r) return r.error();
  auto r = g.finish(d);
  if (kept) *kept = g.kept();
  return r;
}
}  // namespace

TEST_CASE("integrity: SHA-256 of the uncompressed bytes, whatever the chunks", "[integrity]") {
  std::mt19937 rng(7);
  std::string text;
  for (int i = 0; i < 300000; ++i) text += static_cast<char>('a' + rng() % 7);  // compresses well: > 64 KiB out per read
  const auto want = sha256_hex(text);
  const auto gz = test::gzip(text);
  Diagnostics d;
  for (std::size_t chunk : {std::size_t(1), std::size_t(7), std::size_t(4096), gz.size()}) {
    INFO(chunk);
    if (chunk == 1 && gz.size() > 20000) continue;
    auto h = hash_in_chunks(gz, chunk, d);
    REQUIRE(h);
    CHECK(*h == want);
  }
  // Another compression level: other bytes, the same hash (a re-gzipped file is still valid).
  auto other = test::gzip(text, 1);
  CHECK(other != gz);
  CHECK(*hash_in_chunks(other, 1000, d) == want);
  // Two members in a row are one stream, as gzip -d reads them.
  auto two = test::gzip(text.substr(0, 1000)) + test::gzip(text.substr(1000));
  CHECK(*hash_in_chunks(two, 333, d) == want);
  // Kept bytes, and the limit.
  std::string kept;
  CHECK(*hash_in_chunks(test::gzip("{\"a\":1}"), 3, d, 100, &kept) == sha256_hex("{\"a\":1}"));
  CHECK(kept == "{\"a\":1}");
  auto over = hash_in_chunks(gz, 4096, d, 1000);
  REQUIRE_FALSE(over);
  CHECK(over.error() == client_errc::limit_exceeded);
}

TEST_CASE("integrity: large objects are streamed, with the same hash", "[integrity]") {
  Diagnostics d;
  // Over 4 MiB compressed (random bytes do not compress): streamed through zlib from the start.
  std::mt19937 rng(11);
  std::string noise(5u << 20, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  const auto gz = test::gzip(noise, 1);
  REQUIRE(gz.size() > (4u << 20));
  auto h = hash_in_chunks(gz, 64 * 1024, d);
  REQUIRE(h);
  CHECK(*h == sha256_hex(noise));
  // Small compressed, over 32 MiB uncompressed: not inflated whole, streamed.
  const std::string zeros(40u << 20, '0');
  const auto zgz = test::gzip(zeros);
  REQUIRE(zgz.size() < (4u << 20));
  GunzipSha256 g;
  REQUIRE(g.update(bytes(zgz), d));
  auto zh = g.finish(d);
  REQUIRE(zh);
  CHECK(*zh == sha256_hex(zeros));
  CHECK(g.uncompressed_size() == zeros.size());
}

TEST_CASE("integrity: corrupt, truncated and empty gzip are refused", "[integrity]") {
  Diagnostics d;
  auto gz = test::gzip(std::string(5000, 'x'));
  auto cut = hash_in_chunks(gz.substr(0, gz.size() / 2), 100, d);
  REQUIRE_FALSE(cut);
  CHECK(d.message.find("truncated") != std::string::npos);
  std::mt19937 rng(3);
  std::string noise(5u << 20, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  const auto big = test::gzip(noise, 1);
  auto big_cut = hash_in_chunks(std::string_view(big).substr(0, big.size() - 100), 1 << 20, d);
  REQUIRE_FALSE(big_cut);
  CHECK(d.message.find("truncated") != std::string::npos);
  auto junk = hash_in_chunks("this is not gzip", 4, d);
  REQUIRE_FALSE(junk);
  CHECK(d.message.find("not gzip") != std::string::npos);
  auto trailing = hash_in_chunks(gz + "garbage", 100, d);
  CHECK_FALSE(trailing);
  GunzipSha256 empty;
  CHECK_FALSE(empty.finish(d));
}

TEST_CASE("integrity: user metadata of an S3 answer", "[integrity]") {
  HttpResponse r;
  r.status = 200;
  r.headers = {{"x-amz-meta-signature", "abcd"}, {"X-Amz-Meta-Signature-Algorithm", "SHA256withRSA"},
               {"x-amz-meta-", "no name"}, {"x-amz-request-id", "1"}, {"ETag", "\"e\""}};
  auto m = s3::user_metadata(r);
  CHECK(m.size() == 2);
  CHECK(m["signature"] == "abcd");
  CHECK(m["signature-algorithm"] == "SHA256withRSA");
}
