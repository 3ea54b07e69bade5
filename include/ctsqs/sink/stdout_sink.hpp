// StdoutSink: writes formatted event lines to stdout or any file descriptor / FILE*.
#pragma once

#include "ctsqs/sink/format.hpp"
#include "ctsqs/sink/sink.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace ctsqs {

/// Settings of a StdoutSink.
struct StdoutSinkOptions {
  OutputFormat format = OutputFormat::flat;  ///< line format
  LineOptions line;                          ///< devo header values (hostname, PRI, time)
  std::size_t buffer_bytes = std::size_t{1} << 20;  ///< lines are written when this much is buffered
  /// On `flush`, also fsync(2) the descriptor (regular files; ignored for pipes and terminals).
  bool sync = false;
};

/// A stream sink: buffers lines (bounded by `buffer_bytes`) and writes them with write(2).
///
/// Delivery: `flush` returns success once every line written before it was handed to the
/// kernel (write(2) completed) — and, with `sync`, fsync'ed. A failed write or flush discards
/// the buffered lines (the caller must not acknowledge their source) and leaves the sink usable.
/// A reader that is gone (EPIPE) fails with `client_errc::sink_closed`: nothing written later
/// can arrive. The calling thread must not die of SIGPIPE for that (the Collector blocks it in
/// its sink thread; other callers ignore or block it).
/// The descriptor is not owned and not closed. Single-threaded.
class StdoutSink final : public Sink {
 public:
  /// Writes to file descriptor 1.
  explicit StdoutSink(StdoutSinkOptions options = {});
  /// Writes to `fd` (not owned).
  StdoutSink(int fd, StdoutSinkOptions options);
  /// Writes to `file`'s descriptor; anything already buffered in `file` is fflush'ed first.
  StdoutSink(std::FILE* file, StdoutSinkOptions options);
  ~StdoutSink() override;
  StdoutSink(const StdoutSink&) = delete;
  StdoutSink& operator=(const StdoutSink&) = delete;

  /// Fails when a write(2) of the buffer fails, `diag.message` e.g. "write to fd 1: Broken pipe".
  result<void> write(const Event& event, Diagnostics& diag) override;
  /// Lines already formatted in this sink's format (`count` of them, each ending in '\n'), as
  /// `count` calls of write() would have made them: how lines formatted on other threads are
  /// written (`ctsqs decode`). Failures as write().
  result<void> write_lines(std::string_view lines, std::uint64_t count, Diagnostics& diag);
  /// Writes the buffer (and fsyncs with `sync`); `diag.message` names the descriptor on failure.
  result<void> flush(Diagnostics& diag) override;
  using Sink::flush;  // the deprecated forms, for one release
  using Sink::write;

  /// Header values for the next lines (the devo time is typically set once per object).
  LineOptions& line_options() noexcept { return options_.line; }

  std::uint64_t lines_written() const noexcept { return lines_; }
  std::uint64_t bytes_written() const noexcept { return bytes_; }

 private:
  result<void> drain(Diagnostics& diag);
  int fd_;
  StdoutSinkOptions options_;
  std::string buffer_;
  std::uint64_t lines_ = 0;
  std::uint64_t bytes_ = 0;
};

namespace detail {
/// write(2) all of `data` to `fd`, retrying on EINTR/EAGAIN; 0 or the errno of the failure.
int write_all(int fd, const char* data, std::size_t size) noexcept;
}  // namespace detail

}  // namespace ctsqs
