// Private helpers shared by the sans-I/O protocol modules (sqs, s3, notification): URL parts, quoting.
#pragma once

#include "ctsqs/error.hpp"

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

}  // namespace ctsqs::detail
