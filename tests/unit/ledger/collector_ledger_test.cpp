// Unit tests of the Collector with a ledger, over an in-memory queue, store and sink: one lookup
// per received batch, skips, overwritten objects, record before delete, a failing ledger.
#include "ctsqs/collector/collector.hpp"

#include "unit/catch_result.hpp"
#include "unit/cloudtrail_decoders.hpp"
#include "unit/gzip_helper.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/ledger/ledger.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <map>
#include <mutex>

using namespace ctsqs;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

/// Hands out scripted batches, then nothing; deletes are logged to `events`.
class ScriptedQueue final : public MessageQueue {
 public:
  std::deque<std::vector<SqsMessage>> batches;
  std::vector<std::string>* events = nullptr;
  std::size_t outstanding = 0;
  asio::awaitable<result<std::vector<SqsMessage>>> async_receive(int, Diagnostics&) override {
    if (batches.empty()) {
      asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
      co_await t.async_wait(asio::use_awaitable);
      co_return std::vector<SqsMessage>{};
    }
    auto b = std::move(batches.front());
    batches.pop_front();
    outstanding += b.size();
    co_return b;
  }
  asio::awaitable<result<std::vector<BatchEntryFailure>>> async_delete(std::vector<std::string> handles,
                                                                        Diagnostics&) override {
    for (auto& h : handles) events->push_back("delete " + h);
    outstanding -= handles.size();
    co_return std::vector<BatchEntryFailure>{};
  }
  asio::awaitable<result<std::vector<BatchEntryFailure>>> async_change_visibility(std::vector<VisibilityChange>,
                                                                                   Diagnostics&) override {
    co_return std::vector<BatchEntryFailure>{};
  }
  asio::awaitable<result<QueueCounts>> async_queue_counts(Diagnostics&) override {
    QueueCounts c;
    c.visible = static_cast<std::int64_t>(batches.size());
    c.in_flight = static_cast<std::int64_t>(outstanding);
    co_return c;
  }
};

class MemoryStore final : public ObjectStore {
 public:
  std::map<std::string, std::string> objects;
  std::vector<std::string> fetched;
  asio::awaitable<result<void>> async_fetch(ObjectRef o, ObjectChunkHandler on_chunk, Diagnostics& diag) override {
    fetched.push_back(o.key);
    auto it = objects.find(o.key);
    if (it == objects.end()) {
      diag.message = "no such object";
      co_return make_error_code(aws_errc::no_such_key);
    }
    const auto& data = it->second;
    auto r = co_await on_chunk(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()));
    if (!r) co_return r.error();
    co_return result<void>{};
  }
};

class MemorySink final : public Sink {
 public:
  result<void> write(const Event& e, Diagnostics&) override {
    std::lock_guard lk(mu_);
    pending_.push_back(std::string(e.record));
    return {};
  }
  result<void> flush(Diagnostics&) override {
    std::lock_guard lk(mu_);
    delivered += pending_.size();
    pending_.clear();
    return {};
  }
  std::size_t delivered = 0;

 private:
  std::mutex mu_;
  std::vector<std::string> pending_;
};

/// A memory ledger that counts its calls, logs its records to `events`, and can fail.
class CountingLedger final : public Ledger {
 public:
  std::unique_ptr<Ledger> inner = make_memory_ledger();
  std::vector<std::size_t> lookups;  // objects per lookup call
  std::vector<std::string>* events = nullptr;
  bool fail = false;
  std::string describe() const override { return "counting"; }
  asio::awaitable<result<std::vector<std::optional<LedgerRecord>>>> async_lookup(std::vector<ObjectRef> objects,
                                                                                  Diagnostics& diag) override {
    lookups.push_back(objects.size());
    if (fail) {
      diag.message = "injected";
      co_return make_error_code(client_errc::io_error);
    }
    co_return co_await inner->async_lookup(std::move(objects), diag);
  }
  asio::awaitable<result<void>> async_record(std::vector<LedgerRecord> records, Diagnostics& diag) override {
    if (fail) {
      diag.message = "injected";
      co_return make_error_code(client_errc::io_error);
    }
    for (auto& r : records) events->push_back("record " + r.key);
    co_return co_await inner->async_record(std::move(records), diag);
  }
  asio::awaitable<result<ClaimOutcome>> async_claim(LedgerClaim c, Diagnostics& diag) override {
    co_return co_await inner->async_claim(std::move(c), diag);
  }
};

std::string trail_file(const std::string& id_prefix, int n) {
  std::string s = "{\"Records\":[";
  for (int i = 0; i < n; ++i)
    s += std::string(i ? "," : "") +
         "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"Get\",\"eventID\":\"" +
         id_prefix + std::to_string(i) + "\",\"eventTime\":\"2026-09-01T00:00:00Z\"}";
  return test::gzip(s + "]}");
}

SqsMessage message(const std::string& id, const std::string& key, const std::string& etag) {
  ObjectRef o;
  o.bucket = "b";
  o.key = key;
  o.region = "us-east-1";
  o.size = 10;
  o.etag = etag;
  SqsMessage m;
  m.message_id = id;
  m.receipt_handle = "h-" + id;
  m.receive_count = 1;
  m.body = s3_event_notification_body(o, std::chrono::system_clock::now());
  return m;
}

struct Run {
  ScriptedQueue queue;
  MemoryStore store;
  MemorySink sink;
  CountingLedger ledger;
  Metrics metrics;
  std::vector<std::string> events, log;
  CollectorResult result;

  Run() {
    queue.events = &events;
    ledger.events = &events;
  }
  void go() {
    asio::io_context ioc;
    CollectorOptions o;
    o.receive = SqsReceiveOptions{.visibility_timeout = 43200s, .visibility_extension_interval = 21600s};
    o.drain_empty_polls = 2;
    o.concurrency.receives_in_flight = 1;
    o.heartbeat.enabled = false;
    o.ledger = &ledger;
    o.log = [this](std::string_view l) { log.emplace_back(l); };
    Collector c(ioc.get_executor(), queue, store, sink, test::cloudtrail_decoders(), o, metrics);
    bool done = false;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      result = co_await c.async_run();
      done = true;
    }, asio::detached);
    ioc.run_for(20s);
    REQUIRE(done);
  }
};

}  // namespace

TEST_CASE("collector with a ledger: one lookup per received batch, delivered objects skipped, records before deletes",
          "[collector][ledger]") {
  Run run;
  for (int i = 0; i < 4; ++i) run.store.objects["k" + std::to_string(i)] = trail_file("e" + std::to_string(i) + "-", 3);
  // k0 was delivered before with the same ETag; k1 with another one (overwritten since).
  Diagnostics d;
  LedgerRecord r0, r1;
  r0.bucket = r1.bucket = "b";
  r0.key = "k0";
  r0.etag = "e0";
  r1.key = "k1";
  r1.etag = "old";
  r1.collector_id = "c9";
  std::vector<std::string> ignored;
  run.ledger.events = &ignored;
  asio::io_context seed;
  asio::co_spawn(seed, run.ledger.async_record({r0, r1}, d), asio::detached);
  seed.run();
  run.ledger.events = &run.events;
  run.queue.batches.push_back({message("m0", "k0", "e0"), message("m1", "k1", "e1"), message("m2", "k2", "e2")});
  run.queue.batches.push_back({message("m3", "k3", "e3")});
  run.go();
  CHECK(run.result.clean());
  // One lookup per batch, of every object the batch announced.
  REQUIRE(run.ledger.lookups.size() == 2);
  CHECK(run.ledger.lookups[0] == 3);
  CHECK(run.ledger.lookups[1] == 1);
  // k0 not fetched; k1 fetched again (overwritten), and said so.
  CHECK(std::find(run.store.fetched.begin(), run.store.fetched.end(), "k0") == run.store.fetched.end());
  CHECK(run.store.fetched.size() == 3);
  CHECK(run.sink.delivered == 9);
  CHECK(run.metrics.duplicates_skipped.load() == 1);
  CHECK(run.metrics.ledger_records.load() == 3);
  bool said = false;
  for (auto& l : run.log) said = said || (l.find("s3://b/k1") != std::string::npos && l.find("overwritten") != std::string::npos &&
                                          l.find("ETag old") != std::string::npos && l.find("ETag e1") != std::string::npos);
  CHECK(said);
  // Every message deleted, each delivered object recorded before its message's delete.
  for (const std::string id : {"m0", "m1", "m2", "m3"}) {
    auto del = std::find(run.events.begin(), run.events.end(), "delete h-" + id);
    REQUIRE(del != run.events.end());
    if (id != "m0") {
      auto rec = std::find(run.events.begin(), run.events.end(), "record k" + id.substr(1));
      REQUIRE(rec != run.events.end());
      CHECK(rec < del);
    }
  }
  auto again = run.ledger.inner->async_lookup({ObjectRef{"b", "k1", "", 0, "", ""}}, d);
  asio::io_context check;
  std::optional<LedgerRecord> k1;
  asio::co_spawn(check, std::move(again), [&](std::exception_ptr, result<std::vector<std::optional<LedgerRecord>>> r) {
    k1 = r.value()[0];
  });
  check.run();
  REQUIRE(k1);
  CHECK(k1->etag == "e1");  // the record now names what was delivered
  CHECK(k1->events == 3);
}

TEST_CASE("collector with a failing ledger delivers everything and deletes, counting ledger errors",
          "[collector][ledger]") {
  Run run;
  run.ledger.fail = true;
  for (int i = 0; i < 3; ++i) run.store.objects["k" + std::to_string(i)] = trail_file("e" + std::to_string(i) + "-", 2);
  run.queue.batches.push_back({message("m0", "k0", "e0"), message("m1", "k1", "e1")});
  run.queue.batches.push_back({message("m2", "k2", "e2")});
  run.go();
  CHECK(run.result.clean());
  CHECK(run.sink.delivered == 6);
  CHECK(run.store.fetched.size() == 3);
  CHECK(run.metrics.ledger_errors.load() >= 3);  // 2 lookups, at least 1 write
  CHECK(run.metrics.ledger_records.load() == 0);
  CHECK(std::count_if(run.events.begin(), run.events.end(), [](auto& e) { return e.rfind("delete ", 0) == 0; }) == 3);
  bool said = false;
  for (auto& l : run.log) said = said || l.find("are deleted all the same") != std::string::npos;
  CHECK(said);
}
