// find_json_special (SSE2 blocks, 8-byte words, overlapping last blocks) finds exactly what a
// byte-by-byte scan finds, for every length, position and special byte.
#include "../../../lib/detail/json_escape.hpp"

#include "catch.hpp"

#include <string>

using ctsqs::detail::find_json_special;

namespace {

const char* naive(const char* p, const char* end) {
  for (; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == '"' || c == '\\') return p;
  }
  return end;
}

}  // namespace

TEST_CASE("find_json_special agrees with a byte scan for every length and position", "[json_escape]") {
  // Fillers next to the special bytes' values (0x1f/0x20, 0x21/0x23, 0x5b/0x5d, high bytes).
  const std::string fillers = std::string("a \x21\x23\x5b\x5d\x7f") + "\x80\xa2\xdc\xff";
  const std::string specials = std::string("\"\\\x1f\n", 4) + std::string(1, '\0');
  for (std::size_t len = 0; len <= 48; ++len) {
    for (char fill : fillers) {
      std::string s(len, fill);
      // Offset by one inside a bigger buffer: unaligned starts too.
      std::string buf = "x" + s;
      const char* b = buf.data() + 1;
      REQUIRE(find_json_special(b, b + len) == naive(b, b + len));
      for (std::size_t at = 0; at < len; ++at) {
        for (char sp : specials) {
          buf = "x" + s;
          buf[1 + at] = sp;
          b = buf.data() + 1;
          INFO("len " << len << " at " << at << " special " << int(sp) << " fill " << int(fill));
          REQUIRE(find_json_special(b, b + len) == b + at);
          // A second special later: the first still wins.
          if (at + 3 < len) {
            buf[1 + at + 3] = '"';
            REQUIRE(find_json_special(b, b + len) == b + at);
          }
        }
      }
    }
  }
}
