// JSON string escaping shared by the decoder and the output formats (no dependencies, inline).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ctsqs::detail {

/// The special bytes (see find_json_special) of 8 bytes read little-endian: the high bit of
/// each such byte set. Bits above the first special byte may be set spuriously; the lowest is
/// exact.
inline std::uint64_t json_special_bytes(std::uint64_t v) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  const std::uint64_t q = v ^ (ones * '"');
  const std::uint64_t b = v ^ (ones * '\\');
  return (((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high;
}

/// First character in [p, end) that JSON requires escaped (`"`, `\`, below 0x20), or `end`.
/// Scans 16 bytes at a time where SSE2 is available, 8 at a time otherwise, and ends with one
/// overlapping block instead of a byte loop (the bytes scanned twice are known clean): most
/// CloudTrail strings and keys are short and need no escaping.
inline const char* find_json_special(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  if (end - p >= 16) {
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    auto scan = [&](const char* at) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
      const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                     _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
      return static_cast<unsigned>(_mm_movemask_epi8(m));
    };
    for (; end - p >= 16; p += 16)
      if (const unsigned mask = scan(p)) return p + __builtin_ctz(mask);
    if (p == end) return end;
    const char* at = end - 16;
    const unsigned mask = scan(at);
    return mask ? at + __builtin_ctz(mask) : end;
  }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (end - p >= 8) {
    auto scan = [](const char* at) {
      std::uint64_t v;
      std::memcpy(&v, at, 8);
      return json_special_bytes(v);
    };
    for (; end - p >= 8; p += 8)
      if (const std::uint64_t mask = scan(p)) return p + (__builtin_ctzll(mask) >> 3);
    if (p == end) return end;
    const char* at = end - 8;
    const std::uint64_t mask = scan(at);
    return mask ? at + (__builtin_ctzll(mask) >> 3) : end;
  }
#endif
  for (; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == '"' || c == '\\') return p;
  }
  return end;
}

/// The escape sequence for a special character `c` (see find_json_special); returns its length.
inline std::size_t json_escape_sequence(unsigned char c, char out[6]) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  out[0] = '\\';
  switch (c) {
    case '"': out[1] = '"'; return 2;
    case '\\': out[1] = '\\'; return 2;
    case '\n': out[1] = 'n'; return 2;
    case '\r': out[1] = 'r'; return 2;
    case '\t': out[1] = 't'; return 2;
    case '\b': out[1] = 'b'; return 2;
    case '\f': out[1] = 'f'; return 2;
    default:
      out[1] = 'u';
      out[2] = '0';
      out[3] = '0';
      out[4] = hex[c >> 4];
      out[5] = hex[c & 15];
      return 6;
  }
}

/// Appends `s` to `out` with the characters JSON requires escaped (`"`, `\`, control characters)
/// escaped; everything else, including UTF-8 sequences, is copied as is. No surrounding quotes.
inline void append_json_escaped(std::string& out, std::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
  for (;;) {
    const char* q = find_json_special(p, end);
    out.append(p, q);
    if (q == end) return;
    char esc[6];
    out.append(esc, json_escape_sequence(static_cast<unsigned char>(*q), esc));
    p = q + 1;
  }
}

/// Appends `"s"` (quoted and escaped) to `out`.
inline void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  append_json_escaped(out, s);
  out.push_back('"');
}

}  // namespace ctsqs::detail
