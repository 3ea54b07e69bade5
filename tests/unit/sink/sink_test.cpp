// Unit tests for the Sink interface: a sink written against the previous interface (write(event),
// flush(), last_error()) still compiles and reports through Diagnostics& for one release, callers
// of the old forms still get the message, and a sink implementing neither form fails cleanly.
#include "ctsqs/sink/sink.hpp"

#include "ctsqs/sink/stdout_sink.hpp"

#include "../../../lib/collector_sink_worker.hpp"

#include "catch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

// These tests use the deprecated forms on purpose.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using namespace ctsqs;
namespace asio = boost::asio;

namespace {

Event ev(std::string tag) {
  Event e;
  e.tag = std::move(tag);
  e.record = R"({"a":1})";
  e.columns = R"("a":1)";
  return e;
}

// An embedder's sink as the previous release taught it: no Diagnostics anywhere.
class OldStyleSink : public Sink {
 public:
  result<void> write(const Event& e) override {
    if (throw_next) {
      throw_next = false;
      throw std::runtime_error("database gone");
    }
    if (e.tag == "refused") {
      error_ = "insert into events (tag refused): constraint violated";
      return make_error_code(client_errc::sink_failed);
    }
    ++written;
    return {};
  }
  result<void> flush() override {
    if (fail_flush) {
      error_ = "commit to db.example:5432: connection reset";
      return make_error_code(client_errc::sink_failed);
    }
    flushed += written;
    written = 0;
    return {};
  }
  std::string last_error() const override { return error_; }

  bool fail_flush = false;
  bool throw_next = false;
  int written = 0;
  int flushed = 0;

 private:
  std::string error_;
};

// The same without last_error(): a failure still fails, with no message.
struct OldStyleQuietSink final : Sink {
  result<void> write(const Event&) override { return {}; }
  result<void> flush() override { return make_error_code(client_errc::sink_closed); }
};

// A sink of the new kind.
struct NewStyleSink final : Sink {
  result<void> write(const Event&, Diagnostics&) override { return {}; }
  result<void> flush(Diagnostics& diag) override {
    diag.message = "write to fd 7: Broken pipe";
    return make_error_code(client_errc::sink_closed);
  }
};

// Overrides nothing: compiles (the old interface must), and fails instead of recursing.
struct EmptySink final : Sink {};

}  // namespace

TEST_CASE("Sink: a sink written the old way reports through write(event, diag) and flush(diag)", "[sink]") {
  OldStyleSink old;
  Sink& sink = old;
  Diagnostics diag;
  REQUIRE(sink.write(ev("t"), diag));
  REQUIRE(sink.flush(diag));
  CHECK(diag.message.empty());
  CHECK(old.flushed == 1);

  auto w = sink.write(ev("refused"), diag);
  REQUIRE_FALSE(w);
  CHECK(w.error() == make_error_code(client_errc::sink_failed));
  CHECK(diag.message == "insert into events (tag refused): constraint violated");

  old.fail_flush = true;
  Diagnostics fd;
  auto f = sink.flush(fd);
  REQUIRE_FALSE(f);
  CHECK(f.error() == make_error_code(client_errc::sink_failed));
  CHECK(fd.message == "commit to db.example:5432: connection reset");

  OldStyleQuietSink quiet;
  Diagnostics qd;
  auto q = static_cast<Sink&>(quiet).flush(qd);
  REQUIRE_FALSE(q);
  CHECK(q.error() == make_error_code(client_errc::sink_closed));  // the code is kept
  CHECK(qd.message.empty());
}

TEST_CASE("Sink: an old-style sink that threw is not mistaken for one implementing nothing", "[sink]") {
  OldStyleSink old;
  Sink& sink = old;
  Diagnostics diag;
  old.throw_next = true;
  CHECK_THROWS_AS(sink.write(ev("t"), diag), std::runtime_error);
  REQUIRE(sink.write(ev("t"), diag));  // the forwarding guard was released by the throw
  REQUIRE(sink.flush(diag));
  CHECK(old.flushed == 1);
}

TEST_CASE("Sink: the collector's sink thread carries an old-style sink's last_error()", "[sink][collector]") {
  asio::io_context io;
  OldStyleSink old;
  old.fail_flush = true;
  Metrics metrics;
  auto worker = std::make_shared<detail::SinkWorker>(io.get_executor(), old, metrics, 1000);
  std::string failure_detail;
  worker->on_failure([&](const detail::SinkWorker::Failure& f) { failure_detail = f.detail; });
  worker->start();
  std::string why;
  bool acknowledged = true;
  auto scenario = [&]() -> asio::awaitable<void> {
    const auto since = worker->mark();
    std::vector<Event> batch{ev("t")};
    co_await worker->push(std::move(batch));
    acknowledged = static_cast<bool>(co_await worker->barrier(since, &why));
  };
  auto done = asio::co_spawn(io, scenario(), asio::use_future);
  io.run();
  done.get();
  worker->stop();
  worker->join();
  CHECK_FALSE(acknowledged);
  CHECK(why == "commit to db.example:5432: connection reset");
  CHECK(failure_detail == "commit to db.example:5432: connection reset");
}

TEST_CASE("Sink: callers of the deprecated forms still get the new sinks' messages", "[sink]") {
  NewStyleSink fresh;
  Sink& sink = fresh;
  REQUIRE(sink.write(ev("t")));
  auto f = sink.flush();
  REQUIRE_FALSE(f);
  CHECK(f.error() == make_error_code(client_errc::sink_closed));
  CHECK(sink.last_error() == "write to fd 7: Broken pipe");

  // The library's sinks keep the old forms callable on their own type too.
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);
  {
    StdoutSink out(full, {});
    REQUIRE(out.write(ev("t")));
    CHECK_FALSE(out.flush());
    CHECK(out.last_error() == "write to fd " + std::to_string(full) + ": No space left on device");
  }
  ::close(full);
}

TEST_CASE("Sink: a sink implementing neither form fails naming that, without recursing", "[sink]") {
  EmptySink empty;
  Sink& sink = empty;
  Diagnostics diag;
  auto w = sink.write(ev("t"), diag);
  REQUIRE_FALSE(w);
  CHECK(w.error() == make_error_code(client_errc::invalid_argument));
  CHECK(diag.message.find("implements neither") != std::string::npos);
  Diagnostics fd;
  CHECK_FALSE(sink.flush(fd));
  CHECK(fd.message.find("implements neither") != std::string::npos);
  // Through the deprecated forms too.
  CHECK_FALSE(sink.write(ev("t")));
  CHECK(sink.last_error().find("implements neither") != std::string::npos);
  CHECK_FALSE(sink.flush());
  CHECK(sink.last_error().find("implements neither") != std::string::npos);
}
