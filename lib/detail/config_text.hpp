// Text helpers shared by the collector file's parser, validation and summary
// (lib/collector_config*.cpp): splitting, lowercasing, echoing a value safely in an error.
#pragma once

#include "ctsqs/collector/config.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::config_text {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
inline bool all_of(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

using ::ctsqs::detail::lower;

/// A value safe to echo in an error: printable, at most 80 characters.
inline std::string shown(std::string_view v) {
  std::string out = "\"";
  std::size_t n = 0;
  for (char c : v) {
    if (++n > 80) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out + "\"";
}

inline bool is_aws_host(std::string_view host) {
  return host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn") ||
         host.ends_with(".api.aws") || host == "queue.amazonaws.com";
}

/// A JSON path: `base.key`, the key quoted when it is not a plain name.
inline std::string join_path(const std::string& base, std::string_view key) {
  std::string k;
  bool plain = !key.empty();
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) plain = false;
  if (plain) {
    k = std::string(key);
  } else {
    k = shown(key);
  }
  return base.empty() ? k : base + "." + k;
}

/// The warnings, one per line, appended to an error: a misspelt key often explains it.
inline std::string warnings_note(const CollectorConfig& c) {
  std::string out;
  const std::string source = c.source_name.empty() ? "config" : c.source_name;
  for (const auto& w : c.warnings) out += "\n" + source + ": warning: " + w.path + ": " + w.message;
  return out;
}

}  // namespace ctsqs::config_text
