// Small text helpers shared by the library (internal): trimming, ASCII lower case, hex and
// decimal digits, and the "true" spelling of boolean settings, one copy each.
#pragma once

#include "ctsqs/transport/http.hpp"

#include <string>
#include <string_view>

namespace ctsqs::detail {

/// The characters std::isspace accepts in the C locale.
inline constexpr std::string_view ascii_space = " \t\n\v\f\r";

/// `s` without the characters of `chars` at either end.
inline std::string_view trim(std::string_view s, std::string_view chars = ascii_space) noexcept {
  const auto first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

/// `s` with A-Z lowered (other bytes as they are).
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// The value of a hexadecimal digit, or -1 when `c` is not one.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Whether `s` is not empty and only ASCII digits.
constexpr bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

/// Whether a boolean setting (an AWS_* variable, a shared-config value) is "true", in any case,
/// as the AWS SDKs read them.
inline bool is_true_setting(std::string_view v) noexcept { return iequals(v, "true"); }

}  // namespace ctsqs::detail
