// SHA-256 and HMAC-SHA256 primitives for SigV4 (OpenSSL, compiled in lib/ only).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ctsqs::sigv4 {

/// A 32-byte SHA-256 / HMAC-SHA256 digest.
using Digest = std::array<std::uint8_t, 32>;

/// SHA-256 of `data`.
Digest sha256(std::string_view data) noexcept;

/// Lowercase hex SHA-256 of `data` (the SigV4 payload hash form).
std::string sha256_hex(std::string_view data);

/// HMAC-SHA256 of `data` under `key`.
Digest hmac_sha256(std::string_view key, std::string_view data) noexcept;

/// Lowercase hex of a digest.
std::string to_hex(const Digest& d);

/// The digest's bytes as a string_view (valid while `d` lives), e.g. to chain HMACs.
inline std::string_view as_view(const Digest& d) noexcept {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

/// SHA-256 of the empty string, the payload hash of a body-less request.
inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace ctsqs::sigv4
