// OutBuf: a growable char buffer with inline appends (no zero-fill, no out-of-line calls on the
// fast path), used by the decoder to build records and columns before they go into an Event.
#pragma once

#include "json_escape.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace ctsqs::detail {

class OutBuf {
 public:
  OutBuf() { grow(4096); }
  OutBuf(const OutBuf&) = delete;
  OutBuf& operator=(const OutBuf&) = delete;

  std::size_t size() const noexcept { return static_cast<std::size_t>(p_ - b_); }
  const char* data() const noexcept { return b_; }
  std::string_view view() const noexcept { return {b_, size()}; }
  void clear() noexcept { p_ = b_; }
  void truncate(std::size_t n) noexcept { p_ = b_ + n; }

  void reserve_more(std::size_t n) {
    if (static_cast<std::size_t>(e_ - p_) < n) [[unlikely]] grow(n);
  }
  void put(char c) {
    if (p_ == e_) [[unlikely]] grow(1);
    *p_++ = c;
  }
  void append(const char* s, std::size_t n) {
    reserve_more(n);
    copy(p_, s, n);
    p_ += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }

  /// Room for `n` more bytes; returns where they go. Write them through put_at, then commit.
  char* claim(std::size_t n) {
    reserve_more(n);
    return p_;
  }
  /// Ends the bytes written since claim at `end` (at most the `n` claimed).
  void commit(char* end) noexcept { p_ = end; }
  /// Writes `s` at `at` (in claimed room) and returns the end.
  static char* put_at(char* at, std::string_view s) noexcept {
    copy(at, s.data(), s.size());
    return at + s.size();
  }
  // Appends s[from, size()) of this same buffer's contents elsewhere is not allowed (may move).

  /// Appends `s` JSON-escaped (no quotes).
  void append_escaped(std::string_view s) {
    const char* p = s.data();
    const char* const end = p + s.size();
    for (;;) {
      const char* q = find_json_special(p, end);
      append(p, static_cast<std::size_t>(q - p));
      if (q == end) return;
      char esc[6];
      append(esc, json_escape_sequence(static_cast<unsigned char>(*q), esc));
      p = q + 1;
    }
  }

 private:
  // memcpy for the short strings of JSON records (names, values: mostly under 64 bytes), inline:
  // fixed-size copies the compiler turns into moves, overlapping at the end, instead of a call
  // that dispatches on the size.
  static void copy(char* d, const char* s, std::size_t n) noexcept {
    if (n >= 16) {
      if (n > 128) [[unlikely]] {
        std::memcpy(d, s, n);
        return;
      }
      for (std::size_t i = 0; i + 16 < n; i += 16) std::memcpy(d + i, s + i, 16);
      std::memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
      std::memcpy(d, s, 8);
      std::memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
      std::memcpy(d, s, 4);
      std::memcpy(d + n - 4, s + n - 4, 4);
    } else if (n > 0) {
      d[0] = s[0];
      d[n / 2] = s[n / 2];
      d[n - 1] = s[n - 1];
    }
  }

  void grow(std::size_t n) {
    const std::size_t used = size();
    const std::size_t cap = std::max<std::size_t>({4096, 2 * static_cast<std::size_t>(e_ - b_), used + n});
    std::unique_ptr<char[]> m(new char[cap]);
    if (used) std::memcpy(m.get(), b_, used);
    mem_ = std::move(m);
    b_ = mem_.get();
    p_ = b_ + used;
    e_ = b_ + cap;
  }
  std::unique_ptr<char[]> mem_;
  char* b_ = nullptr;
  char* p_ = nullptr;
  char* e_ = nullptr;
};

}  // namespace ctsqs::detail
