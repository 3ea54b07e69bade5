// The collector's sink thread: a flush that fails loses every batch of its window, whichever
// message's barrier closed it, and no later good flush may acknowledge a message that lost
// events there.
#include "../../lib/collector_sink_worker.hpp"

#include "catch.hpp"
#include "catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace ctsqs;
namespace asio = boost::asio;

namespace {

struct SwitchSink final : Sink {
  std::atomic<bool> fail_flush{false};
  std::atomic<int> written{0};
  result<void> write(const Event&, Diagnostics&) override {
    ++written;
    return {};
  }
  result<void> flush(Diagnostics&) override {
    if (fail_flush) return make_error_code(client_errc::sink_failed);
    return {};
  }
};

std::vector<Event> batch(const std::string& record) {
  Event e;
  e.tag = "cloud.aws.cloudtrail.s3";
  e.record = record;
  return {e};
}

}  // namespace

TEST_CASE("sink worker: a message that lost events in another message's failed flush is not acknowledged",
          "[collector]") {
  asio::io_context io;
  SwitchSink sink;
  Metrics metrics;
  auto worker = std::make_shared<detail::SinkWorker>(io.get_executor(), sink, metrics, 1000);
  worker->start();
  struct Results {
    result<void> b, a, c;
  } res{make_error_code(client_errc::cancelled), make_error_code(client_errc::cancelled),
        make_error_code(client_errc::cancelled)};
  auto scenario = [&]() -> asio::awaitable<void> {
    const auto a_since = worker->mark();
    co_await worker->push(batch("A1"));  // message A's first object
    const auto b_since = worker->mark();
    co_await worker->push(batch("B1"));
    sink.fail_flush = true;              // the connection drops: B's barrier closes the window
    res.b = co_await worker->barrier(b_since);
    sink.fail_flush = false;
    co_await worker->push(batch("A2"));  // A's second object, then A's barrier: a good flush
    res.a = co_await worker->barrier(a_since);
    const auto c_since = worker->mark();  // a message that started after the failure
    co_await worker->push(batch("C1"));
    res.c = co_await worker->barrier(c_since);
  };
  auto done = asio::co_spawn(io, scenario(), asio::use_future);
  io.run();
  done.get();
  worker->stop();
  worker->join();
  CHECK(sink.written == 4);
  CHECK(res.b.has_error());
  CHECK(res.a.has_error());  // A1 died with B's window: A must come back
  CHECK(res.c.has_value());
}

namespace {
// Fails every flush whose window holds an event tagged "bad" (one file that can no longer grow).
struct OneBadFileSink final : Sink {
  std::atomic<bool> broken{true};
  bool bad_in_window = false;
  result<void> write(const Event& e, Diagnostics&) override {
    bad_in_window = bad_in_window || e.tag == "bad";
    return {};
  }
  result<void> flush(Diagnostics& diag) override {
    const bool failed = bad_in_window && broken;
    bad_in_window = false;
    if (!failed) return {};
    diag.message = "write /out/bad.jsonl: File too large";
    return make_error_code(client_errc::sink_failed);
  }
};
std::vector<Event> tagged(const std::string& tag) {
  Event e;
  e.tag = tag;
  e.record = "{}";
  return {e};
}
}  // namespace

TEST_CASE("sink worker: good flushes of other tags do not end the failure streak of a tag whose file fails",
          "[collector]") {
  asio::io_context io;
  OneBadFileSink sink;
  Metrics metrics;
  auto worker = std::make_shared<detail::SinkWorker>(io.get_executor(), sink, metrics, 1000);
  std::vector<detail::SinkWorker::Failure> failures;
  worker->on_failure([&](const detail::SinkWorker::Failure& f) { failures.push_back(f); });
  worker->start();
  std::vector<std::string> details;
  auto scenario = [&]() -> asio::awaitable<void> {
    for (int round = 0; round < 3; ++round) {
      auto since = worker->mark();
      co_await worker->push(tagged("bad"));
      std::string why;
      if (!co_await worker->barrier(since, &why)) details.push_back(why);
      since = worker->mark();
      co_await worker->push(tagged("good"));  // another tag's file still takes writes
      CHECK(co_await worker->barrier(since));
    }
    // A good flush of the failing tag itself ends its streak.
    sink.broken = false;
    auto since = worker->mark();
    co_await worker->push(tagged("bad"));
    CHECK(co_await worker->barrier(since));
    sink.broken = true;
    since = worker->mark();
    co_await worker->push(tagged("bad"));
    CHECK_FALSE(co_await worker->barrier(since));
  };
  auto done = asio::co_spawn(io, scenario(), asio::use_future);
  io.run();
  done.get();
  worker->stop();
  worker->join();
  REQUIRE(failures.size() == 4);
  CHECK(failures[0].streak == 1);
  CHECK(failures[1].streak == 2);
  CHECK(failures[2].streak == 3);
  CHECK(failures[2].tag == "bad");
  CHECK(failures[2].first == failures[0].first);
  CHECK(failures[2].detail == "write /out/bad.jsonl: File too large");
  CHECK(failures[3].streak == 1);
  // The barrier says why, not only "sink failed to deliver".
  CHECK(details == std::vector<std::string>(3, "write /out/bad.jsonl: File too large"));
}

TEST_CASE("sink worker: written batches wait for the thread that made them, bounded in all", "[collector]") {
  asio::io_context io;
  SwitchSink sink;
  Metrics metrics;
  auto worker = std::make_shared<detail::SinkWorker>(io.get_executor(), sink, metrics, 100000);
  worker->start();
  // Long enough not to fit in a string's own storage: the pointer names the allocation.
  auto big = [](char c, std::size_t n, std::size_t len = 64) {
    std::vector<Event> v(n);
    for (auto& e : v) e.record = std::string(len, c);
    return v;
  };
  std::vector<Event> one = big('1', 3), two = big('2', 2), none = big('x', 1);
  std::vector<const char*> ones;
  for (const auto& e : one) ones.push_back(e.record.data());
  // Batches of a quarter of the limit each (with the Event itself): three fit, the rest not.
  const std::size_t quarter = detail::SinkWorker::spent_limit / 4 - 1;
  result<void> flushed = make_error_code(client_errc::cancelled);
  auto scenario = [&]() -> asio::awaitable<void> {
    const auto since = worker->mark();
    co_await worker->push(std::move(one), true, 1);
    co_await worker->push(std::move(two), true, 2);
    co_await worker->push(std::move(none));  // no owner: freed by the sink thread
    for (int i = 0; i < 5; ++i) co_await worker->push(big('3', 1, quarter), true, 3);
    flushed = co_await worker->barrier(since);
  };
  auto done = asio::co_spawn(io, scenario(), asio::use_future);
  io.run();
  done.get();
  REQUIRE(flushed.has_value());
  CHECK(sink.written == 3 + 2 + 1 + 5);

  auto mine = worker->take_spent(1);
  REQUIRE(mine.size() == 1);
  REQUIRE(mine[0].size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(mine[0][i].record.data() == ones[i]);  // the same buffers, not freed
  CHECK(worker->take_spent(1).empty());  // taken once
  auto theirs = worker->take_spent(2);
  REQUIRE(theirs.size() == 1);
  CHECK(theirs[0].size() == 2);
  CHECK(worker->take_spent(3).size() == 3);  // the 4th and 5th went over: freed by the sink thread
  CHECK(worker->take_spent(0).empty());
  CHECK(worker->take_spent(detail::SinkWorker::no_owner).empty());
  CHECK(worker->take_spent(99).empty());

  // Taking gives the bytes back to the bound, which holds for all owners together: of four
  // quarter batches of owners 4 and 5 (alternating) three are kept. Then clear_spent frees what
  // waits.
  auto more = [&](std::vector<unsigned> owners) -> asio::awaitable<void> {
    const auto since = worker->mark();
    for (unsigned o : owners) co_await worker->push(big('4', 1, quarter), true, o);
    flushed = co_await worker->barrier(since);
  };
  io.restart();
  auto again = asio::co_spawn(io, more({4, 5, 4, 5}), asio::use_future);
  io.run();
  again.get();
  REQUIRE(flushed.has_value());
  CHECK(worker->take_spent(4).size() == 2);
  CHECK(worker->take_spent(5).size() == 1);
  io.restart();
  auto last = asio::co_spawn(io, more({6}), asio::use_future);
  io.run();
  last.get();
  worker->clear_spent();
  CHECK(worker->take_spent(6).empty());
  worker->stop();
  worker->join();
}

TEST_CASE("sink worker: a worker whose last owner is its own thread (a sink that comes back after "
          "the grace period) ends without terminating the process", "[collector]") {
  // The collector leaves a stuck sink behind when its grace period expires; the sink thread then
  // holds the last reference to its worker, and destroys it when the sink returns.
  struct StuckSink final : Sink {
    std::mutex m;
    std::condition_variable cv;
    bool release = false, entered = false;
    result<void> write(const Event&, Diagnostics&) override {
      std::unique_lock lk(m);
      entered = true;
      cv.notify_all();
      cv.wait(lk, [&] { return release; });
      return {};
    }
    result<void> flush(Diagnostics&) override { return {}; }
  } sink;
  asio::io_context io;
  Metrics metrics;
  auto worker = std::make_shared<detail::SinkWorker>(io.get_executor(), sink, metrics, 1000);
  worker->start();
  auto pushed = asio::co_spawn(io, worker->push(batch("stuck")), asio::use_future);
  io.run();
  pushed.get();
  {
    std::unique_lock lk(sink.m);
    sink.cv.wait(lk, [&] { return sink.entered; });
  }
  // The sink thread posted "space freed" (holding a reference) before it wrote: run it now, so
  // that the thread's own reference is the last.
  io.restart();
  io.poll();
  worker->stop();
  std::weak_ptr<detail::SinkWorker> alive = worker;
  worker.reset();  // what the collector does: the sink thread's own reference is the last
  {
    std::lock_guard lk(sink.m);
    sink.release = true;
  }
  sink.cv.notify_all();
  for (int i = 0; i < 500 && !alive.expired(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(alive.expired());
  // The destructor ran on the sink thread; let that thread end. Before the fix, destroying its
  // own joinable std::thread called std::terminate, and this process died here.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  SUCCEED("the process is still running");
}
