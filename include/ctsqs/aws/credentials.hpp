// Credentials: an AWS access key, secret and optional session token, never printed.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

namespace ctsqs {

/// AWS credentials. Printing one shows only the access key id; the secret and token never leave.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< empty for long-term keys
  /// When temporary credentials expire; unset for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration;
  std::string provider;       ///< which provider produced them, e.g. "environment", "assume-role"

  bool empty() const noexcept { return access_key_id.empty() || secret_access_key.empty(); }
};

inline std::ostream& operator<<(std::ostream& os, const Credentials& c) {
  return os << "Credentials{access_key_id=" << c.access_key_id << ", secret=<redacted>"
            << (c.session_token.empty() ? "" : ", session_token=<redacted>") << ", provider="
            << c.provider << "}";
}

}  // namespace ctsqs
