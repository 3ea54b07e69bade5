// Backfill's pure parts and its in-memory queue: CloudTrail's key layout, range times, the resume
// state (high water, out-of-order done keys, durable file, refusal of another backfill's file),
// the S3 notification body of a listed object (read back by the collector's planner), and the
// BackfillQueue driven by a real Collector (delivered -> done, failures -> given up after
// max_receives). Also: a stop during a receive pause (found by the fault-schedule harness).
#include "ctsqs/backfill/backfill.hpp"

#include "catch.hpp"
#include "cloudtrail_decoders.hpp"
#include "gzip_helper.hpp"
#include "memory_sink.hpp"
#include "catch_result.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/decode/service_handler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

using namespace ctsqs;
using ctsqs::test::cloudtrail_decoders;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

SysTime t(const char* text) {
  Diagnostics d;
  auto r = parse_backfill_time(text, "t", d);
  INFO(d.message);
  REQUIRE(r);
  return *r;
}

std::filesystem::path temp_path(const std::string& name) {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("ctsqs-backfill-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

}  // namespace

TEST_CASE("backfill: CloudTrail key layout", "[backfill]") {
  auto k = parse_log_key("logs/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/09/01/"
                         "111122223333_CloudTrail_eu-west-1_20260901T2355Z_abcDEF.json.gz");
  REQUIRE(k);
  CHECK(k->prefix == "logs/");
  CHECK(k->org_id == "o-abc123");
  CHECK(k->account == "111122223333");
  CHECK(k->kind == "CloudTrail");
  CHECK(k->region == "eu-west-1");
  CHECK((k->year == 2026 && k->month == 9 && k->day == 1));
  REQUIRE(k->file_time);
  CHECK(*k->file_time == t("2026-09-01T23:55Z"));
  CHECK(k->day_prefix == "logs/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/09/01/");

  auto insight = parse_log_key("AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/09/02/"
                               "111122223333_CloudTrail-Insight_us-east-1_20260902T0100Z_x.json.gz");
  REQUIRE(insight);
  CHECK(insight->prefix.empty());
  CHECK(insight->kind == "CloudTrail-Insight");
  REQUIRE(insight->file_time);
  CHECK(*insight->file_time == t("2026-09-02T01:00Z"));

  // Digests parse (their kind is skipped by the scanner), names without a time have none.
  auto digest = parse_log_key("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/09/02/"
                              "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260902T010000Z.json.gz");
  REQUIRE(digest);
  CHECK(digest->kind == "CloudTrail-Digest");
  auto odd = parse_log_key("AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/02/readme.txt");
  REQUIRE(odd);
  CHECK_FALSE(odd->file_time);

  for (const char* bad : {"AWSLogs/12345/CloudTrail/us-east-1/2026/09/02/f.json.gz",         // short account
                          "AWSLogs/111122223333/Other/us-east-1/2026/09/02/f.json.gz",       // unknown kind
                          "AWSLogs/111122223333/CloudTrail/us-east-1/2026/13/02/f.json.gz",  // month 13
                          "AWSLogs/111122223333/CloudTrail/us-east-1/2026/02/30/f.json.gz",  // Feb 30
                          "AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/02/",           // no file
                          "xAWSLogs/111122223333/CloudTrail/us-east-1/2026/09/02/f.json.gz",
                          "AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/02/extra/f.json.gz"}) {
    INFO(bad);
    CHECK_FALSE(parse_log_key(bad));
  }
}

TEST_CASE("backfill: range times", "[backfill]") {
  CHECK(format_backfill_time(t("2026-09-01")) == "2026-09-01T00:00Z");
  CHECK(format_backfill_time(t("2026-09-01T06:30Z")) == "2026-09-01T06:30Z");
  CHECK(format_backfill_time(t("2026-09-01T06:30:15Z")) == "2026-09-01T06:30:15Z");
  CHECK(t("2026-09-02") - t("2026-09-01") == 24h);
  for (const char* bad : {"2026-9-01", "2026-09-01T06:30", "2026-02-30", "2026-09-01T24:00Z", "yesterday", "",
                          "2026-09-01 06:30Z"}) {
    Diagnostics d;
    INFO(bad);
    auto r = parse_backfill_time(bad, "--since", d);
    CHECK_FALSE(r);
    CHECK(d.message.find("--since") != std::string::npos);
  }
}

TEST_CASE("backfill: the state keeps a high water per day and the keys done out of order", "[backfill]") {
  const auto path = temp_path("state.json");
  BackfillState::Identity id{"read", "bucket", "p/", t("2026-09-01"), t("2026-09-03"), ""};
  const std::string day = "p/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/01/";
  const std::string day2 = "p/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/02/";
  {
    Diagnostics d;
    auto st = BackfillState::open(path, id, d);
    REQUIRE(st);
    auto& s = **st;
    s.day_listed(day, {day + "a", day + "b", day + "c", day + "d"});
    s.day_listed(day2, {day2 + "x"});
    s.mark_done(day, day + "b");  // out of order: no high water yet
    CHECK(s.high_water(day).empty());
    CHECK(s.done(day, day + "b"));
    CHECK_FALSE(s.done(day, day + "a"));
    s.mark_done(day, day + "a");  // a and b: the high water moves to b
    CHECK(s.high_water(day) == day + "b");
    s.mark_done(day, day + "d");
    s.mark_done(day2, day2 + "x");  // the whole day
    CHECK(s.day_complete(day2));
    CHECK(s.objects_done_this_run() == 4);
    REQUIRE(s.save(d));
  }
  {
    Diagnostics d;
    auto st = BackfillState::open(path, id, d);
    INFO(d.message);
    REQUIRE(st);
    auto& s = **st;
    CHECK(s.day_complete(day2));
    CHECK_FALSE(s.day_complete(day));
    CHECK(s.high_water(day) == day + "b");
    CHECK(s.done(day, day + "a"));
    CHECK(s.done(day, day + "d"));
    CHECK_FALSE(s.done(day, day + "c"));  // in flight at the "crash": read again
    // The rerun lists the day from the high water on and finishes it.
    s.day_listed(day, {day + "c"});
    s.mark_done(day, day + "c");
    CHECK(s.day_complete(day));
    REQUIRE(s.save(d));
    auto v = boost::json::parse(s.serialize());
    // Completed days are stored as runs per region directory.
    CHECK(v.at("complete").at("p/AWSLogs/111122223333/CloudTrail/us-east-1/").at(0).as_string() ==
          "2026/09/01..2026/09/02");
  }
  // Another bucket, prefix, range or mode: refused, naming both.
  for (auto other : {BackfillState::Identity{"read", "other", "p/", id.since, id.until, ""},
                     BackfillState::Identity{"read", "bucket", "", id.since, id.until, ""},
                     BackfillState::Identity{"read", "bucket", "p/", id.since, t("2026-09-04"), ""},
                     BackfillState::Identity{"enqueue https://q", "bucket", "p/", id.since, id.until, ""}}) {
    Diagnostics d;
    auto st = BackfillState::open(path, other, d);
    CHECK_FALSE(st);
    CHECK(d.message.find("belongs to another backfill") != std::string::npos);
    CHECK(d.message.find(path.string()) != std::string::npos);
  }
  // A damaged file is refused with its name; no temporary file is left behind.
  std::ofstream(path) << "{\"ctsqs_backfill_state\": 1, \"mode\": \"read\"";
  Diagnostics d;
  CHECK_FALSE(BackfillState::open(path, id, d));
  CHECK(d.message.find(path.string()) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  std::filesystem::remove_all(path.parent_path());
}

TEST_CASE("backfill: the notification body of a listed object is read back as S3's", "[backfill]") {
  ObjectRef o;
  o.bucket = "trail-bucket";
  o.key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/01/a b+c%d.json.gz";
  o.region = "us-east-1";
  o.size = 1234;
  o.etag = "0123456789abcdef0123456789abcdef";
  SqsMessage m;
  m.message_id = "m1";
  m.body = s3_event_notification_body(o, t("2026-09-01T10:00Z"));
  Diagnostics d;
  auto plan = plan_notification(m, d);
  INFO(d.message << "\n" << m.body);
  REQUIRE(plan);
  REQUIRE(plan->kind == MessagePlan::Kind::objects);
  REQUIRE(plan->objects.size() == 1);
  CHECK(plan->objects[0].bucket == o.bucket);
  CHECK(plan->objects[0].key == o.key);
  CHECK(plan->objects[0].size == o.size);
  CHECK(plan->objects[0].etag == o.etag);
  CHECK(plan->objects[0].region == o.region);
}

namespace {

/// Objects from memory; keys listed in `failing` fail with `failure`.
class MemoryStore final : public ObjectStore {
 public:
  std::map<std::string, std::string> objects;
  std::set<std::string> failing;
  error_code failure = make_error_code(aws_errc::internal_error);
  std::map<std::string, std::chrono::milliseconds> delay;  // before answering, per key
  int fetches = 0;
  asio::awaitable<result<void>> async_fetch(ObjectRef o, ObjectChunkHandler on_chunk, Diagnostics& diag) override {
    ++fetches;
    if (auto d = delay.find(o.key); d != delay.end()) {
      asio::steady_timer t(co_await asio::this_coro::executor, d->second);
      co_await t.async_wait(asio::use_awaitable);
    }
    if (failing.count(o.key) || !objects.count(o.key)) {
      diag.message = "s3://" + o.bucket + "/" + o.key + ": injected failure";
      co_return failure;
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
    s += std::string(i ? "," : "") + "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"Get\","
         "\"eventID\":\"" + id_prefix + std::to_string(i) + "\",\"eventTime\":\"2026-09-01T00:00:00Z\"}";
  return test::gzip(s + "]}");
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

}  // namespace

TEST_CASE("backfill: a Collector reads a BackfillQueue; delivered objects are done, failing ones given up",
          "[backfill]") {
  asio::io_context ioc;
  BackfillState state;  // in memory
  BackfillQueue::Options qo;
  qo.wait_time = 200ms;
  qo.max_receives = 2;
  BackfillQueue queue(ioc.get_executor(), qo, &state);
  MemoryStore store;
  test::MemorySink sink;
  const std::string day = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/01/";
  std::vector<ListedLog> logs;
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    ListedLog l;
    l.day_prefix = day;
    l.object = {"b", day + "f" + std::to_string(i) + ".json.gz", "us-east-1", 10, "etag" + std::to_string(i), ""};
    store.objects[l.object.key] = trail_file("f" + std::to_string(i) + "-", 3);
    keys.push_back(l.object.key);
    logs.push_back(l);
  }
  store.failing.insert(keys[2]);
  store.failure = make_error_code(aws_errc::no_such_key);  // the object's own failure
  state.day_listed(day, keys);
  Metrics metrics;
  auto o = options();
  std::vector<std::string> lines;
  o.log = [&lines](std::string_view l) { lines.emplace_back(l); };
  Collector c(ioc.get_executor(), queue, store, sink, cloudtrail_decoders(), o, metrics);
  CollectorResult res;
  bool done = false;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    co_await queue.async_add(logs);
    // The listing ends a little later: the drain must wait for it.
    asio::steady_timer tm(ioc, 300ms);
    co_await tm.async_wait(asio::use_awaitable);
    queue.close();
  }, asio::detached);
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    res = co_await c.async_run();
    done = true;
  }, asio::detached);
  ioc.run_for(30s);
  REQUIRE(done);
  CHECK(sink.delivered.size() == 12);  // 4 objects of 3 events
  CHECK(queue.delivered() == 4);
  REQUIRE(queue.failed().size() == 1);
  CHECK(queue.failed()[0].find("s3://b/" + keys[2] + ": failed 2 times") == 0);
  CHECK(store.fetches == 4 + 2);  // the failing one twice (max_receives)
  for (int i = 0; i < 5; ++i) CHECK(state.done(day, keys[i]) == (i != 2));
  CHECK_FALSE(state.day_complete(day));
  CHECK(state.high_water(day) == keys[1]);
  CHECK(res.permanent_failures == 2);
}

// The fault-schedule harness found a SIGSEGV at the end of a drain stopped while its receives
// were paused after a failure of the environment, with work still in flight: the pause ended, the
// receiver left with the pause timer's cancellation handler still in its slot, and when the work
// in flight was done the end of the run emitted on that slot into the destroyed timer. Under ASan
// this test reports the heap-use-after-free without the fix.
TEST_CASE("collector: a stop while receives are paused ends cleanly", "[backfill][collector]") {
  asio::io_context ioc;
  BackfillState state;
  BackfillQueue::Options qo;
  qo.wait_time = 100ms;
  BackfillQueue queue(ioc.get_executor(), qo, &state);
  MemoryStore store;  // every fetch fails with a 5xx: the environment, so receives pause
  test::MemorySink sink;
  ListedLog l;
  l.day_prefix = "d/";
  l.object = {"b", "d/f.json.gz", "us-east-1", 10, "e", ""};
  // A second object that answers only after the pause is over: work in flight at the stop.
  ListedLog slow = l;
  slow.object.key = "d/slow.json.gz";
  store.objects[slow.object.key] = trail_file("slow-", 2);
  store.delay[slow.object.key] = 1800ms;
  Metrics metrics;
  auto o = options();
  o.drain_empty_polls = 0;  // run until stopped
  o.shutdown_grace = 5s;
  o.concurrency.adaptive_objects_in_flight = false;
  o.concurrency.objects_in_flight = 4;
  Collector c(ioc.get_executor(), queue, store, sink, cloudtrail_decoders(), o, metrics);
  bool done = false;
  std::vector<ListedLog> one{slow, l};
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> { co_await queue.async_add(one); }, asio::detached);
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    co_await c.async_run();
    done = true;
  }, asio::detached);
  // The fetch fails at once and pauses receives for 1 s; stop in the middle of the pause.
  asio::steady_timer stop_at(ioc, 400ms);
  stop_at.async_wait([&](auto) { c.request_stop(); });
  ioc.run_for(20s);
  REQUIRE(done);
  CHECK(store.fetches >= 2);
  CHECK(sink.delivered.size() == 2);  // the slow one finished within the grace period
}

TEST_CASE("backfill: the progress line, with an ETA once everything is listed") {
  Backfill::Progress p;
  p.listed_objects = 40;
  p.listed_bytes = 9'800'000;
  p.done_objects = 12;
  p.done_bytes = 2'450'000;
  p.metrics.events_delivered = 5120;
  CHECK(format_progress(p, std::chrono::seconds(10)) == "backfill: 12/40+ objects, 2.5MB/9.8MB, 5120 events, 512 ev/s");
  p.listing_done = true;
  CHECK(format_progress(p, std::chrono::seconds(10)) ==
        "backfill: 12/40 objects, 2.5MB/9.8MB, 5120 events, 512 ev/s, ETA 30s");
}
