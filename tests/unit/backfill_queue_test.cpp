// BackfillQueue driven by a real Collector: only objects whose events a flush acknowledged are
// recorded done (whatever on_permanent_error says), --max-receives counts only the objects' own
// failures, and a drain that outlives its queue's visibility bound still ends cleanly.
#include "ctsqs/backfill/backfill.hpp"

#include "catch.hpp"
#include "cloudtrail_decoders.hpp"
#include "gzip_helper.hpp"
#include "memory_sink.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/decode/service_handler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mutex>

using namespace ctsqs;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

/// Objects from memory; a key in `failures` fails with its error code for its first `times` fetches.
class Store final : public ObjectStore {
 public:
  std::map<std::string, std::string> objects;
  struct Failure {
    error_code ec;
    int times = 1000;
  };
  std::map<std::string, Failure> failures;
  std::map<std::string, int> fetches;
  asio::awaitable<result<void>> async_fetch(ObjectRef o, ObjectChunkHandler on_chunk, Diagnostics& diag) override {
    const int n = ++fetches[o.key];
    if (auto f = failures.find(o.key); f != failures.end() && n <= f->second.times) {
      diag.message = "s3://" + o.bucket + "/" + o.key + ": injected " + f->second.ec.message();
      co_return f->second.ec;
    }
    const auto& data = objects[o.key];
    auto r = co_await on_chunk(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()));
    if (!r) co_return r.error();
    co_return result<void>{};
  }
};

std::string trail_file(const std::string& id_prefix, int n) {
  std::string s = "{\"Records\":[";
  for (int i = 0; i < n; ++i)
    s += std::string(i ? "," : "") +
         "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"Get\","
         "\"eventID\":\"" + id_prefix + std::to_string(i) + "\",\"eventTime\":\"2026-09-01T00:00:00Z\"}";
  return test::gzip(s + "]}");
}

PayloadDecoderFactory decoders(std::uint64_t max_object_bytes) {
  auto handler = ServiceHandlerRegistry::builtin().find("aws_sqs_cloudtrail");
  ServiceSettings settings;
  settings.name = "aws_sqs_cloudtrail";
  settings.routing_template = std::string(handler->default_routing_template());
  DecoderOptions d;
  d.build_columns = false;
  d.max_object_bytes = max_object_bytes;
  Diagnostics diag;
  return make_payload_decoder_factory(handler, settings, d, diag).value();
}

CollectorOptions options() {
  CollectorOptions o;
  o.receive = SqsReceiveOptions{.visibility_timeout = 43200s, .visibility_extension_interval = 21600s};
  o.retry_backoff_min = 1s;
  o.retry_backoff_max = 1s;
  o.drain_empty_polls = 1;
  o.heartbeat.enabled = false;
  o.log = [](std::string_view) {};
  return o;
}

const std::string day = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/01/";

struct Run {
  BackfillState state;
  Store store;
  test::MemorySink sink;
  std::vector<ListedLog> logs;
  std::vector<std::string> keys;
  CollectorResult result;
  std::vector<std::string> failed;
  std::uint64_t delivered = 0;
  std::vector<std::string> lines;

  explicit Run(int objects) {
    for (int i = 0; i < objects; ++i) {
      ListedLog l;
      l.day_prefix = day;
      l.object = {"b", day + "f" + std::to_string(i) + ".json.gz", "us-east-1", 10, "etag" + std::to_string(i), ""};
      store.objects[l.object.key] = trail_file("f" + std::to_string(i) + "-", 3);
      keys.push_back(l.object.key);
      logs.push_back(l);
    }
  }

  void go(CollectorOptions o, int max_receives, PayloadDecoderFactory dec = test::cloudtrail_decoders(),
          MessagePlanner planner = &plan_notification, std::chrono::milliseconds wait_time = 200ms) {
    asio::io_context ioc;
    BackfillQueue::Options qo;
    qo.wait_time = wait_time;
    qo.max_receives = max_receives;
    BackfillQueue queue(ioc.get_executor(), qo, &state);
    state.day_listed(day, keys);
    Metrics metrics;
    o.log = [this](std::string_view l) { lines.emplace_back(l); };
    Collector c(ioc.get_executor(), queue, store, sink, std::move(dec), o, metrics, std::move(planner));
    bool done = false;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      co_await queue.async_add(logs);
      queue.close();
    }, asio::detached);
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      result = co_await c.async_run();
      done = true;
      queue.abandon();  // as Backfill does at the end of its run: no timer of the queue outlives it
    }, asio::detached);
    ioc.run_for(60s);
    REQUIRE(done);
    failed = queue.failed();
    delivered = queue.delivered();
  }
};

}  // namespace

// Issue 17, item 1: a collector file with on_permanent_error.delete_after_receives deletes an
// object that failed permanently; a delete must never record such an object done (the rerun
// after a fix would skip it).
TEST_CASE("backfill queue: an object deleted after a permanent failure is never recorded done", "[backfill]") {
  struct Kind {
    const char* name;
    std::function<void(Run&)> arrange;
    std::uint64_t max_object_bytes = std::uint64_t{4} << 30;
    bool refuse_bucket = false;
  };
  std::vector<Kind> kinds{
      {"corrupt", [](Run& r) { r.store.objects[r.keys[1]] = "not gzip at all"; }},
      {"over max_object_bytes", [](Run& r) { r.store.objects[r.keys[1]] = test::gzip(std::string(4000, ' ')); }, 1000},
      {"refused by the allow-list", [](Run&) {}, std::uint64_t{4} << 30, true},
      {"412 after an overwrite",
       [](Run& r) { r.store.failures[r.keys[1]] = {make_error_code(aws_errc::no_such_key)}; }},
  };
  for (const auto& kind : kinds)
    for (int n : {1, 2, 3}) {
      DYNAMIC_SECTION(kind.name << ", delete_after_receives " << n) {
        Run r(3);
        kind.arrange(r);
        auto o = options();
        o.on_permanent_failure.delete_after_receives = n;
        MessagePlanner planner = &plan_notification;
        if (kind.refuse_bucket) {
          // Only the middle object's bucket is outside the allow-list.
          r.logs[1].object.bucket = "other-bucket";
          NotificationAllowList allow;
          allow.buckets = {"b"};
          planner = make_notification_planner(allow);
        }
        r.go(o, 3, decoders(kind.max_object_bytes), planner);
        INFO([&] { std::string s; for (auto& l : r.lines) s += l + "\n"; return s; }());
        CHECK(r.sink.delivered.size() == 6);
        CHECK(r.delivered == 2);
        CHECK(r.state.done(day, r.keys[0]));
        CHECK_FALSE(r.state.done(day, r.keys[1]));
        CHECK(r.state.done(day, r.keys[2]));
        CHECK_FALSE(r.state.day_complete(day));
        REQUIRE(r.failed.size() == 1);
        CHECK(r.failed[0].find(r.keys[1]) != std::string::npos);
        CHECK(r.failed[0].find("permanent") != std::string::npos);
      }
    }
}

// Issue 17, item 9: --max-receives counts the object's own failures, not the environment's (an
// S3 outage longer than the client's retries): such an object is read once the outage is over.
TEST_CASE("backfill queue: failures of the environment do not count towards max_receives", "[backfill]") {
  Run r(2);
  r.store.failures[r.keys[0]] = {make_error_code(aws_errc::internal_error), 3};
  r.go(options(), 2);
  INFO([&] { std::string s; for (auto& l : r.lines) s += l + "\n"; return s; }());
  CHECK(r.failed.empty());
  CHECK(r.delivered == 2);
  CHECK(r.store.fetches[r.keys[0]] == 4);
  CHECK(r.state.day_complete(day));
  CHECK(r.sink.delivered.size() == 6);
}

// And a permanent failure is still given up after max_receives, named with the reason.
TEST_CASE("backfill queue: a permanently failing object is given up after max_receives", "[backfill]") {
  Run r(2);
  r.store.objects[r.keys[1]] = "corrupt";
  r.go(options(), 2);
  CHECK(r.delivered == 1);
  CHECK(r.store.fetches[r.keys[1]] == 2);
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].find("s3://b/" + r.keys[1]) == 0);
  CHECK_FALSE(r.state.done(day, r.keys[1]));
}

// Issue 17, item 8: the drain's wait for a queue that still reports messages (a listing still
// running) was bounded from the first empty poll of the whole run: a listing that stalled again
// later, past that bound, ended the run with "not drained". The bound starts again whenever
// messages arrive.
TEST_CASE("backfill queue: the drain's wait for the listing starts again when objects arrive", "[backfill][slow]") {
  asio::io_context ioc;
  BackfillState state;
  BackfillQueue::Options qo;
  qo.wait_time = 200ms;
  qo.extension_timeout = 2s;
  BackfillQueue queue(ioc.get_executor(), qo, &state);
  Store store;
  test::MemorySink sink;
  std::vector<ListedLog> logs;
  for (int i = 0; i < 2; ++i) {
    ListedLog l;
    l.day_prefix = day;
    l.object = {"b", day + "g" + std::to_string(i) + ".json.gz", "us-east-1", 10, "e", ""};
    store.objects[l.object.key] = trail_file("g" + std::to_string(i) + "-", 1);
    logs.push_back(l);
  }
  auto o = options();
  o.receive = SqsReceiveOptions{.visibility_timeout = 2s, .visibility_extension_interval = 1s};  // the drain waits up to 2 + 5 s for a queue that reports messages
  Metrics metrics;
  Collector c(ioc.get_executor(), queue, store, sink, test::cloudtrail_decoders(), o, metrics);
  CollectorResult res;
  bool done = false;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    // Two stalls of the listing, each shorter than the bound, together longer.
    std::vector<ListedLog> first{logs[0]}, second{logs[1]};
    co_await queue.async_add(first);
    asio::steady_timer tm(ioc, 5s);
    co_await tm.async_wait(asio::use_awaitable);
    co_await queue.async_add(second);
    tm.expires_after(5500ms);
    co_await tm.async_wait(asio::use_awaitable);
    queue.close();
  }, asio::detached);
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    res = co_await c.async_run();
    done = true;
  }, asio::detached);
  ioc.run_for(40s);
  REQUIRE(done);
  CHECK(res.drain_incomplete == "");
  CHECK(queue.delivered() == 2);
  CHECK(res.clean());
}

// Issue 22: once the listing is over and every object is done, nothing can come: the drain's
// last poll is answered at once instead of waiting out the queue's wait time (it was a fixed
// second at the end of every backfill: most of a small one's wall time).
TEST_CASE("backfill queue: the last poll after the listing is answered at once", "[backfill]") {
  Run run(3);
  const auto t0 = std::chrono::steady_clock::now();
  run.go(options(), 3, test::cloudtrail_decoders(), &plan_notification, 120s);  // REQUIREs the end within 60 s
  CHECK(std::chrono::steady_clock::now() - t0 < 60s);
  CHECK(run.delivered == 3);
  CHECK(run.result.clean());
  CHECK(run.sink.delivered.size() == 9);
}

// Issue 17, item 15: no timer of the queue keeps the loop alive after the run: an object hidden
// for a long retry backoff when the run stops does not hold io_context::run() for that long.
TEST_CASE("backfill queue: no timer outlives the run", "[backfill]") {
  asio::io_context ioc;
  BackfillState state;
  BackfillQueue::Options qo;
  qo.wait_time = 200ms;
  BackfillQueue queue(ioc.get_executor(), qo, &state);
  Store store;
  test::MemorySink sink;
  ListedLog l;
  l.day_prefix = day;
  l.object = {"b", day + "slow.json.gz", "us-east-1", 10, "e", ""};
  store.failures[l.object.key] = {make_error_code(aws_errc::no_such_key), 1000};  // its own: hidden for the backoff
  auto o = options();
  o.drain_empty_polls = 0;
  o.retry_backoff_min = 60s;
  o.retry_backoff_max = 60s;
  Metrics metrics;
  Collector c(ioc.get_executor(), queue, store, sink, test::cloudtrail_decoders(), o, metrics);
  bool done = false;
  std::vector<ListedLog> one{l};
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> { co_await queue.async_add(one); }, asio::detached);
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    co_await c.async_run();
    done = true;
    queue.abandon();  // as Backfill does at the end of its run
  }, asio::detached);
  asio::steady_timer stop_at(ioc, 1s);
  stop_at.async_wait([&](auto) { c.request_stop(); });
  const auto t0 = std::chrono::steady_clock::now();
  ioc.run_for(90s);
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(done);
  CHECK(store.fetches[l.object.key] == 1);
  CHECK(took < 20s);
}
