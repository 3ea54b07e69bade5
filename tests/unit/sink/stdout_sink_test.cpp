// Unit tests for StdoutSink: lines reach the descriptor on flush, bounded buffering, failures.
#include "ctsqs/sink/stdout_sink.hpp"

#include "catch.hpp"

#include <csignal>
#include <cstdio>
#include <string>

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
  int p[2];
  REQUIRE(::pipe(p) == 0);
  {
    StdoutSink s(p[1], StdoutSinkOptions{OutputFormat::raw, {}, 1 << 20, false});
    REQUIRE(s.write(ev("t.x")));
    REQUIRE(s.write(ev("t.y")));
    REQUIRE(s.flush());
    CHECK(s.lines_written() == 2);
  }
  ::close(p[1]);
  CHECK(read_all(p[0]) == "{\"tag\":\"t.x\",\"event\":{\"a\":1}}\n{\"tag\":\"t.y\",\"event\":{\"a\":1}}\n");
  ::close(p[0]);
}

TEST_CASE("StdoutSink buffers at most buffer_bytes", "[sink]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  StdoutSinkOptions o;
  o.buffer_bytes = 64;
  o.sync = true;
  StdoutSink s(f, o);
  for (int i = 0; i < 10; ++i) REQUIRE(s.write(ev("tag")));
  // Not flushed yet, but the bound forced most lines out already.
  const long before = ::lseek(::fileno(f), 0, SEEK_CUR);
  CHECK(before >= 10 * 20 - 64);
  REQUIRE(s.flush());
  CHECK(::lseek(::fileno(f), 0, SEEK_CUR) == 10 * 20);
  std::fclose(f);
}

TEST_CASE("StdoutSink reports a reader that is gone as sink_closed and stays usable", "[sink]") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  ::close(p[0]);  // no reader: EPIPE (SIGPIPE is ignored by the test below)
  std::signal(SIGPIPE, SIG_IGN);
  StdoutSink s(p[1], {});
  REQUIRE(s.write(ev("t")));
  auto r = s.flush();
  CHECK_FALSE(r);
  CHECK(r.error() == make_error_code(client_errc::sink_closed));  // the collector gives up at once
  CHECK(s.last_error().find("Broken pipe") != std::string::npos);
  CHECK(s.flush());  // nothing buffered any more
  ::close(p[1]);
}
