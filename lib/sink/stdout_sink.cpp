// StdoutSink: buffered write(2) of formatted lines to a file descriptor.
#include "ctsqs/sink/stdout_sink.hpp"

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <unistd.h>

namespace ctsqs {

namespace detail {
int write_all(int fd, const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {  // non-blocking descriptor: wait for room
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      return errno;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}
}  // namespace detail

StdoutSink::StdoutSink(StdoutSinkOptions options) : StdoutSink(1, std::move(options)) {}

StdoutSink::StdoutSink(int fd, StdoutSinkOptions options) : fd_(fd), options_(std::move(options)) {
  buffer_.reserve(options_.buffer_bytes + 4096);
}

StdoutSink::StdoutSink(std::FILE* file, StdoutSinkOptions options)
    : StdoutSink((std::fflush(file), ::fileno(file)), std::move(options)) {}

StdoutSink::~StdoutSink() {
  Diagnostics ignored;
  (void)drain(ignored);
}

result<void> StdoutSink::drain(Diagnostics& diag) {
  if (buffer_.empty()) return {};
  const int err = detail::write_all(fd_, buffer_.data(), buffer_.size());
  if (err != 0) {
    diag.message = "write to fd " + std::to_string(fd_) + ": " + std::strerror(err);
    buffer_.clear();
    return make_error_code(err == EPIPE ? client_errc::sink_closed : client_errc::sink_failed);
  }
  bytes_ += buffer_.size();
  buffer_.clear();
  return {};
}

result<void> StdoutSink::write(const Event& event, Diagnostics& diag) {
  append_line(buffer_, event, options_.format, options_.line);
  ++lines_;
  if (buffer_.size() >= options_.buffer_bytes) return drain(diag);
  return {};
}

result<void> StdoutSink::write_lines(std::string_view lines, std::uint64_t count, Diagnostics& diag) {
  lines_ += count;
  if (buffer_.empty() && lines.size() >= options_.buffer_bytes / 4) {
    // Large enough to write as it is: no copy through the buffer.
    if (const int err = detail::write_all(fd_, lines.data(), lines.size()); err != 0) {
      diag.message = "write to fd " + std::to_string(fd_) + ": " + std::strerror(err);
      return make_error_code(err == EPIPE ? client_errc::sink_closed : client_errc::sink_failed);
    }
    bytes_ += lines.size();
    return {};
  }
  buffer_.append(lines);
  if (buffer_.size() >= options_.buffer_bytes) return drain(diag);
  return {};
}

result<void> StdoutSink::flush(Diagnostics& diag) {
  if (auto r = drain(diag); !r) return r;
  if (options_.sync && ::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
    diag.message = "fsync fd " + std::to_string(fd_) + ": " + std::strerror(errno);
    return make_error_code(client_errc::sink_failed);
  }
  return {};
}

}  // namespace ctsqs
