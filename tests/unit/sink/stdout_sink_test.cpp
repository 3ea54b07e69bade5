// Unit tests for StdoutSink: lines reach the descriptor on flush, bounded buffering, failures.
#include "ctsqs/sink/stdout_sink.hpp"

#include "catch.hpp"

#include <csignal>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <unistd.h>

using namespace ctsqs;

namespace {
std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}
Event ev(std::string tag) {
  Event e;
  e.tag = std::move(tag);
  e.columns = R"("a":1)";
  e.record = R"({"a":1})";
  return e;
}
}  // namespace

TEST_CASE("StdoutSink writes formatted lines on flush", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
  int p[2];
  REQUIRE(::pipe(p) == 0);
  {
    StdoutSink s(p[1], StdoutSinkOptions{OutputFormat::raw, {}, 1 << 20, false});
    REQUIRE(s.write(ev("t.x"), sd));
    REQUIRE(s.write(ev("t.y"), sd));
    REQUIRE(s.flush(sd));
    CHECK(s.lines_written() == 2);
  }
  ::close(p[1]);
  CHECK(read_all(p[0]) == "{\"tag\":\"t.x\",\"event\":{\"a\":1}}\n{\"tag\":\"t.y\",\"event\":{\"a\":1}}\n");
  ::close(p[0]);
}

TEST_CASE("StdoutSink buffers at most buffer_bytes", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  StdoutSinkOptions o;
  o.buffer_bytes = 64;
  o.sync = true;
  StdoutSink s(f, o);
  for (int i = 0; i < 10; ++i) REQUIRE(s.write(ev("tag"), sd));
  // Not flushed yet, but the bound forced most lines out already.
  const long before = ::lseek(::fileno(f), 0, SEEK_CUR);
  CHECK(before >= 10 * 20 - 64);
  REQUIRE(s.flush(sd));
  CHECK(::lseek(::fileno(f), 0, SEEK_CUR) == 10 * 20);
  std::fclose(f);
}

TEST_CASE("StdoutSink reports a reader that is gone as sink_closed and stays usable", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
  int p[2];
  REQUIRE(::pipe(p) == 0);
  ::close(p[0]);  // no reader: EPIPE (SIGPIPE is ignored by the test below)
  std::signal(SIGPIPE, SIG_IGN);
  StdoutSink s(p[1], {});
  REQUIRE(s.write(ev("t"), sd));
  auto r = s.flush(sd);
  CHECK_FALSE(r);
  CHECK(r.error() == make_error_code(client_errc::sink_closed));  // the collector gives up at once
  CHECK(sd.message == "write to fd " + std::to_string(p[1]) + ": Broken pipe");  // names the descriptor
  CHECK(s.flush(sd));  // nothing buffered any more
  ::close(p[1]);
}

TEST_CASE("StdoutSink on a full disk fails naming the descriptor, and stays usable", "[sink]") {
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);  // every write fails with ENOSPC
  REQUIRE(full >= 0);
  StdoutSink s(full, {});
  Diagnostics sd;
  REQUIRE(s.write(ev("t"), sd));  // buffered
  auto r = s.flush(sd);
  REQUIRE_FALSE(r);
  CHECK(r.error() == make_error_code(client_errc::sink_failed));  // not sink_closed: space may come back
  CHECK(sd.message == "write to fd " + std::to_string(full) + ": No space left on device");
  Diagnostics after;
  CHECK(s.flush(after));  // the failed lines were discarded; nothing left to write
  CHECK(after.message.empty());
  ::close(full);
}

TEST_CASE("StdoutSink::write_lines: lines formatted elsewhere, buffered or written as they are, in order",
          "[sink]") {
  // What `ctsqs decode`'s threads hand it: the same bytes write() would have made, kept in order
  // with events written between them, whether they go through the buffer (small) or straight
  // to the descriptor (a quarter of the buffer or more, with nothing buffered).
  Diagnostics sd;
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  const std::string line = R"({"tag":"t","a":1})" "\n";
  std::string big;
  for (int i = 0; i < 40; ++i) big += line;  // 720 bytes: over 1024 / 4
  {
    StdoutSink s(::fileno(f), StdoutSinkOptions{OutputFormat::flat, {}, 1024, false});
    REQUIRE(s.write_lines(line + line, 2, sd));  // buffered
    REQUIRE(s.write(ev("t"), sd));              // after them
    REQUIRE(s.flush(sd));
    REQUIRE(s.write_lines(big, 40, sd));  // nothing buffered: written as it is
    CHECK(s.bytes_written() == 3 * line.size() + big.size());
    REQUIRE(s.write(ev("t"), sd));
    REQUIRE(s.write_lines(big, 40, sd));  // a line buffered: appended behind it
    REQUIRE(s.flush(sd));
    CHECK(s.lines_written() == 84);
  }
  std::rewind(f);
  CHECK(read_all(::fileno(f)) == line + line + line + big + line + big);
  std::fclose(f);

  // A failed direct write reports as write() does.
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);
  StdoutSink s(full, StdoutSinkOptions{OutputFormat::flat, {}, 1024, false});
  auto r = s.write_lines(big, 40, sd);
  REQUIRE_FALSE(r);
  CHECK(r.error() == make_error_code(client_errc::sink_failed));
  CHECK(sd.message == "write to fd " + std::to_string(full) + ": No space left on device");
  ::close(full);
}
