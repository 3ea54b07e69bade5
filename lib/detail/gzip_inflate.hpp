// The decoder's gzip layer: one streaming inflater and one whole-buffer inflater, each backed by
// the library chosen at build time (CTSQS_INFLATE: isal = ISA-L both ways, libdeflate =
// libdeflate whole + zlib streaming, zlib = zlib both ways, the portable fallback).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ctsqs::gzip {

/// "isal", "libdeflate" or "zlib": which library inflates whole objects.
std::string_view whole_backend() noexcept;
/// "isal" or "zlib": which library inflates streams.
std::string_view stream_backend() noexcept;

/// Streaming inflate of gzip members, one member at a time (`start` before each member).
/// Input is given in pieces of at most `max_input` bytes.
class Stream {
 public:
  enum class Status {
    more,        ///< needs more input or more output room
    member_end,  ///< the member and its trailer (CRC, size) ended and checked
    error,       ///< corrupt data: see `message`
  };
  /// Both libraries count input in 32 bits, and ISA-L 2.30 crashed on a piece of 4 GiB - 1
  /// (the unit test's): pieces stay at 1 GiB.
  static constexpr std::size_t max_input = std::size_t{1} << 30;

  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  /// Starts (or restarts) a member; false when the library could not allocate its state.
  bool start();
  /// The next input piece (at most `max_input` bytes); replaces what was left unread.
  void input(const char* data, std::size_t n) noexcept;
  /// Input bytes not yet consumed.
  std::size_t avail_in() const noexcept;
  /// Inflates into `out[0, cap)`; `produced` = bytes written. `more` with `produced < cap`
  /// means all input was used.
  Status run(char* out, std::size_t cap, std::size_t& produced);
  /// What the library said about the last error.
  std::string message() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Whole-buffer inflate of one gzip member.
class Whole {
 public:
  enum class Status { ok, no_space, error, unavailable };

  Whole();
  ~Whole();
  Whole(const Whole&) = delete;
  Whole& operator=(const Whole&) = delete;

  /// Inflates the gzip member at the start of `in[0, n)` into `out[0, cap)`; on `ok`,
  /// `in_used` and `out_used` say how much was read and written. `unavailable`: this build
  /// inflates whole objects as streams (zlib), the caller streams.
  Status member(const unsigned char* in, std::size_t n, char* out, std::size_t cap,
                std::size_t& in_used, std::size_t& out_used);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctsqs::gzip
