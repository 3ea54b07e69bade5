// JSON string escaping shared by the decoder and the output formats (no dependencies, inline).
#pragma once

#include <string>
#include <string_view>

namespace ctsqs::detail {

/// Appends `s` to `out` with the characters JSON requires escaped (`"`, `\`, control characters)
/// escaped; everything else, including UTF-8 sequences, is copied as is. No surrounding quotes.
inline void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* run = p;
  while (p != end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') [[likely]] {
      ++p;
      continue;
    }
    out.append(run, p);
    switch (c) {
      case '"': out.append("\\\"", 2); break;
      case '\\': out.append("\\\\", 2); break;
      case '\n': out.append("\\n", 2); break;
      case '\r': out.append("\\r", 2); break;
      case '\t': out.append("\\t", 2); break;
      case '\b': out.append("\\b", 2); break;
      case '\f': out.append("\\f", 2); break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out.append(u, 6);
      }
    }
    run = ++p;
  }
  out.append(run, end);
}

/// Appends `"s"` (quoted and escaped) to `out`.
inline void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  append_json_escaped(out, s);
  out.push_back('"');
}

}  // namespace ctsqs::detail
