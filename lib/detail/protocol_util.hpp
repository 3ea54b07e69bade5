// Private helpers shared by the sans-I/O protocol modules (sqs, s3, notification): URL parts, quoting.
#pragma once

#include "ctsqs/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs::detail {

/// The scheme and authority of an endpoint URL ("https://host:port/..." → {"https", "host:port"}).
struct UrlParts {
  std::string scheme;     ///< "http" or "https", lower-case
  std::string authority;  ///< host[:port] as written
  std::string host;       ///< host without port (IPv6 without brackets)
  std::string path;       ///< path after the authority ("" or "/...")
};

/// Splits an http(s) URL; false when it is not one (no scheme, other scheme, empty host, spaces).
bool split_url(std::string_view url, UrlParts& out);

/// True for dotted-quad IPv4 and bracketed/colon IPv6 literals.
bool is_ip_literal(std::string_view host) noexcept;

/// The first `max` bytes of untrusted text, quoted, with control bytes escaped, for messages.
std::string quote_start(std::string_view text, std::size_t max = 120);

/// The code point of an XML numeric character reference without its `&` and `;` ("#65",
/// "#x41"); nullopt when malformed or not a valid character (0, a surrogate, above U+10FFFF).
std::optional<std::uint32_t> parse_char_ref(std::string_view ref) noexcept;

/// Appends the UTF-8 encoding of a valid code point (as returned by parse_char_ref).
void append_utf8(std::string& out, std::uint32_t cp);

}  // namespace ctsqs::detail
