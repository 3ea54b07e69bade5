// The collector's decode pool: jobs of one coroutine in order, off the loop, errors carried back;
// a Collector (over a BackfillQueue) decoding objects in parallel on it keeps each object's
// events in order, delivers and deletes everything, shares its TagLimits safely and records the
// SHA-256 of each object's uncompressed content (from the decoder's own inflate) in the ledger.
#include "../../lib/detail/decode_pool.hpp"

#include "catch.hpp"
#include "catch_result.hpp"
#include "gzip_helper.hpp"
#include "memory_sink.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/integrity/gunzip_sha256.hpp"
#include "ctsqs/ledger/ledger.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/decode/tag_router.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

using namespace ctsqs;
using namespace std::chrono_literals;
namespace asio = boost::asio;

TEST_CASE("decode pool: each coroutine's jobs run in order, off the loop, in parallel across coroutines",
          "[collector][decode_pool]") {
  asio::io_context ioc;
  detail::DecodePool pool(3);
  REQUIRE(pool.threads() == 3);
  constexpr int coroutines = 12, jobs = 40;
  std::vector<std::vector<int>> seen(coroutines);  // each written by its coroutine's jobs only
  std::atomic<int> running{0}, most{0}, total{0};
  std::mutex tm;
  std::set<std::thread::id> threads;
  std::map<std::thread::id, std::set<unsigned>> numbers;  // what current_worker() says on each
  const auto loop_thread = std::this_thread::get_id();
  int done = 0;
  for (int c = 0; c < coroutines; ++c) {
    asio::co_spawn(ioc, [&, c]() -> asio::awaitable<void> {
      for (int j = 0; j < jobs; ++j) {
        auto job = [&, j] {
          const int now = ++running;
          for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
          }
          {
            std::lock_guard lk(tm);
            threads.insert(std::this_thread::get_id());
            numbers[std::this_thread::get_id()].insert(detail::DecodePool::current_worker());
          }
          seen[static_cast<std::size_t>(c)].push_back(j);
          std::this_thread::sleep_for(100us);
          ++total;
          --running;
        };
        co_await pool.run(job);
        // Back on the loop after each job.
        REQUIRE(std::this_thread::get_id() == loop_thread);
      }
      ++done;
    }, asio::detached);
  }
  ioc.run();  // returns only when every job came back: the pool keeps the loop's work count
  REQUIRE(done == coroutines);
  REQUIRE(total == coroutines * jobs);
  for (auto& s : seen) {
    REQUIRE(s.size() == static_cast<std::size_t>(jobs));
    for (int j = 0; j < jobs; ++j) REQUIRE(s[static_cast<std::size_t>(j)] == j);
  }
  REQUIRE(threads.count(loop_thread) == 0);
  REQUIRE(most.load() <= 3);
  // Each worker has one number of its own, 1 to 3; any other thread is 0.
  std::set<unsigned> all;
  for (const auto& [id, ns] : numbers) {
    REQUIRE(ns.size() == 1);
    CHECK(*ns.begin() >= 1);
    CHECK(*ns.begin() <= 3);
    all.insert(*ns.begin());
  }
  CHECK(all.size() == numbers.size());
  CHECK(detail::DecodePool::current_worker() == 0);
}

TEST_CASE("decode pool: a job's exception is rethrown in its coroutine, and the pool goes on",
          "[collector][decode_pool]") {
  asio::io_context ioc;
  detail::DecodePool pool(2);
  std::string caught;
  int after = 0;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    auto bad = [] { throw std::runtime_error("decoder threw"); };
    try {
      co_await pool.run(bad);
    } catch (const std::exception& e) {
      caught = e.what();
    }
    auto good = [&] { after = 1; };
    co_await pool.run(good);
  }, asio::detached);
  ioc.run();
  REQUIRE(caught == "decoder threw");
  REQUIRE(after == 1);
}

namespace {

/// Objects from memory, handed over in small chunks with a pass through the loop between them,
/// so that objects in flight interleave.
class ChunkedStore final : public ObjectStore {
 public:
  std::map<std::string, std::string> objects;
  std::size_t chunk = 1500;
  asio::awaitable<result<void>> async_fetch(ObjectRef o, ObjectChunkHandler on_chunk, Diagnostics&) override {
    const std::string data = objects.at(o.key);
    for (std::size_t at = 0; at < data.size(); at += chunk) {
      const auto n = std::min(chunk, data.size() - at);
      auto r = co_await on_chunk(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data() + at), n));
      if (!r) co_return r.error();
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
    co_return result<void>{};
  }
};

/// Wraps the real decoder: records the threads it is fed on and, on its first feed, waits (up
/// to 10 s) for another object's feed to run at the same time: objects decode in parallel.
struct Watch {
  std::mutex m;
  std::condition_variable cv;
  std::set<std::thread::id> threads;
  int running = 0;
  bool overlapped = false;
};

class WatchedDecoder final : public PayloadDecoder {
 public:
  WatchedDecoder(std::unique_ptr<PayloadDecoder> inner, std::shared_ptr<Watch> w)
      : inner_(std::move(inner)), w_(std::move(w)) {}
  result<void> feed(std::string_view chunk, std::vector<Event>& out, Diagnostics& diag) override {
    {
      std::unique_lock lk(w_->m);
      w_->threads.insert(std::this_thread::get_id());
      if (++w_->running > 1) w_->overlapped = true;
      w_->cv.notify_all();
      if (first_) w_->cv.wait_for(lk, 10s, [&] { return w_->overlapped; });
      first_ = false;
    }
    auto r = inner_->feed(chunk, out, diag);
    std::lock_guard lk(w_->m);
    --w_->running;
    return r;
  }
  result<void> finish(std::vector<Event>& out, Diagnostics& diag) override { return inner_->finish(out, diag); }
  std::uint64_t filtered() const noexcept override { return inner_->filtered(); }
  std::uint64_t retagged() const noexcept override { return inner_->retagged(); }
  SkipReason skipped() const noexcept override { return inner_->skipped(); }
  bool observe_content(ContentObserver o) override { return inner_->observe_content(std::move(o)); }
  bool content_observed() const noexcept override { return inner_->content_observed(); }

 private:
  std::unique_ptr<PayloadDecoder> inner_;
  std::shared_ptr<Watch> w_;
  bool first_ = true;
};

const std::string day = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/01/";

// Records of object `f`: eventID "f-i", services spread over many names (tags) so that the
// shared TagLimits admits and caps from several threads at once.
std::string trail_json(int f, int n) {
  std::string s = "{\"Records\":[";
  for (int i = 0; i < n; ++i)
    s += std::string(i ? "," : "") + "{\"eventVersion\":\"1.08\",\"eventSource\":\"svc" + std::to_string((f * 7 + i) % 40) +
         ".amazonaws.com\",\"eventName\":\"Get\",\"eventID\":\"" + std::to_string(f) + "-" + std::to_string(i) +
         "\",\"eventTime\":\"2026-09-01T00:00:00Z\"}";
  return s + "]}";
}

}  // namespace

TEST_CASE("collector: objects decode in parallel on the pool, each object's events in order, hashed once for the "
          "ledger",
          "[collector][decode_pool]") {
  constexpr int objects = 24, records = 400;
  asio::io_context ioc;
  ChunkedStore store;
  test::MemorySink sink(/*with_tag=*/true);
  std::vector<ListedLog> logs;
  std::vector<std::string> keys;
  std::map<std::string, std::string> json_of;
  for (int i = 0; i < objects; ++i) {
    ListedLog l;
    l.day_prefix = day;
    l.object = {"b", day + "f" + std::to_string(i) + ".json.gz", "us-east-1", 10, "etag" + std::to_string(i), ""};
    json_of[l.object.key] = trail_json(i, records);
    store.objects[l.object.key] = test::gzip(json_of[l.object.key]);
    keys.push_back(l.object.key);
    logs.push_back(l);
  }
  auto handler = ServiceHandlerRegistry::builtin().find("aws_sqs_cloudtrail");
  ServiceSettings settings;
  settings.name = "aws_sqs_cloudtrail";
  settings.routing_template = std::string(handler->default_routing_template());
  DecoderOptions dopt;
  dopt.build_columns = false;
  // 30 distinct tags admitted of the 40 services: the rest are capped (counted, logged) from
  // whichever thread decodes them.
  dopt.tag_limits = std::make_shared<TagLimits>(TagLimits::default_max_value_length, 30);
  std::mutex log_mu;
  std::vector<std::string> lines;
  dopt.tag_limits->log = [&](std::string_view l) {
    std::lock_guard lk(log_mu);
    lines.emplace_back(l);
  };
  auto watch = std::make_shared<Watch>();
  Diagnostics made;
  auto factory = make_payload_decoder_factory(handler, settings, dopt, made);
  INFO(made.message);
  REQUIRE(factory);
  auto real = std::move(*factory);
  PayloadDecoderFactory dec = [real, watch](const ObjectRef& o, std::string_view src) -> std::unique_ptr<PayloadDecoder> {
    return std::make_unique<WatchedDecoder>(real(o, src), watch);
  };
  auto ledger = make_memory_ledger();

  BackfillState state;
  BackfillQueue::Options qo;
  qo.wait_time = 200ms;
  BackfillQueue queue(ioc.get_executor(), qo, &state);
  state.day_listed(day, keys);
  Metrics metrics;
  CollectorOptions o;
  o.receive = SqsReceiveOptions{.visibility_timeout = 43200s, .visibility_extension_interval = 21600s};
  o.drain_empty_polls = 1;
  o.heartbeat.enabled = false;
  o.concurrency.objects_in_flight = 8;
  o.concurrency.adaptive_objects_in_flight = false;
  o.concurrency.decode_threads = 3;
  o.ledger = ledger.get();
  o.log = [&](std::string_view l) {
    std::lock_guard lk(log_mu);
    lines.emplace_back(l);
  };
  Collector c(ioc.get_executor(), queue, store, sink, dec, o, metrics);
  CollectorResult result;
  std::vector<std::optional<LedgerRecord>> recorded;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    co_await queue.async_add(logs);
    queue.close();
    result = co_await c.async_run();
    std::vector<ObjectRef> refs;
    for (auto& l : logs) refs.push_back(l.object);
    Diagnostics d;
    auto r = co_await ledger->async_lookup(refs, d);
    if (r) recorded = std::move(*r);
  }, asio::detached);
  ioc.run();

  CHECK(result.clean());
  CHECK(metrics.messages_deleted.load() == static_cast<std::uint64_t>(objects));
  REQUIRE(sink.delivered.size() == static_cast<std::size_t>(objects * records));
  // Each object's events in order, none twice.
  std::map<int, int> next;
  for (const auto& line : sink.delivered) {
    const auto at = line.find("\"eventID\":\"") + 11;
    const auto dash = line.find('-', at);
    const int f = std::stoi(line.substr(at, dash - at));
    const int i = std::stoi(line.substr(dash + 1, line.find('"', dash) - dash - 1));
    REQUIRE(i == next[f]);
    ++next[f];
  }
  // Decoded off the loop, more than one object at a time.
  {
    std::lock_guard lk(watch->m);
    CHECK(watch->overlapped);
    CHECK(watch->threads.count(std::this_thread::get_id()) == 0);
    CHECK(watch->threads.size() <= 3);
  }
  // The shared tag bound held: at most 30 distinct tags (+ the unknown fallback).
  std::set<std::string> tags;
  for (const auto& line : sink.delivered) tags.insert(line.substr(0, line.find(' ')));
  CHECK(tags.size() <= 31);
  CHECK(dopt.tag_limits->capped_events() > 0);
  // The ledger holds each object's content SHA-256, taken from the decoder's inflate.
  REQUIRE(recorded.size() == logs.size());
  for (std::size_t i = 0; i < logs.size(); ++i) {
    REQUIRE(recorded[i]);
    integrity::Sha256Stream sha;
    sha.update(json_of[logs[i].object.key]);
    CHECK(recorded[i]->sha256 == sha.finish_hex());
    CHECK(recorded[i]->events == static_cast<std::uint64_t>(records));
  }
}
