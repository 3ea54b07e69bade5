// Streaming SHA-256 of the uncompressed bytes of a gzip object, in bounded memory: what a digest
// file's hashValue is compared with.
#pragma once

#include "ctsqs/error.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace ctsqs::integrity {

/// SHA-256 over bytes fed in pieces (OpenSSL EVP).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(Sha256Stream&&) noexcept;
  Sha256Stream& operator=(Sha256Stream&&) noexcept;
  void update(std::span<const std::byte> bytes);
  void update(std::string_view bytes);
  /// Lowercase hex of everything fed; the stream starts over afterwards.
  std::string finish_hex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Inflates a gzip stream fed chunk by chunk (several members in a row are one stream, as
/// gzip -d reads them) and hashes the uncompressed bytes; memory stays bounded whatever the
/// size: streamed in 256 KiB pieces through the inflater the decoder uses (ISA-L, or zlib; the
/// build option CTSQS_INFLATE). Optionally keeps the first `keep_max` uncompressed bytes (a
/// digest file is parsed too).
class GunzipSha256 {
 public:
  explicit GunzipSha256(std::size_t keep_max = 0);
  ~GunzipSha256();
  GunzipSha256(const GunzipSha256&) = delete;
  GunzipSha256& operator=(const GunzipSha256&) = delete;

  /// Feeds compressed bytes. Errors (client_errc::invalid_argument, diag says why): not gzip,
  /// corrupt, or more than `keep_max` bytes to keep (limit_exceeded).
  result<void> update(std::span<const std::byte> compressed, Diagnostics& diag);
  /// The hex SHA-256 of the uncompressed bytes; an error when the stream ended inside a member
  /// (truncated) or was empty.
  result<std::string> finish(Diagnostics& diag);
  /// The uncompressed bytes kept (up to keep_max).
  const std::string& kept() const noexcept;
  /// Uncompressed bytes seen so far.
  std::uint64_t uncompressed_size() const noexcept;

 private:
  result<void> stream(std::span<const std::byte> compressed, Diagnostics& diag);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctsqs::integrity
