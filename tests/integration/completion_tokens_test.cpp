// Integration: the top-level asynchronous operations through any completion token (a callback,
// use_future, deferred, use_awaitable) against the real peers, and cancellation through the
// token's slot: a parallel_group timeout and a bound slot stop a collector run and a backfill
// promptly (operation_aborted, the result kept); an AWS call cut off ends at once.
#include "collector_helpers.hpp"
#include "unit/gzip_helper.hpp"

#include "catch.hpp"
#include "unit/catch_result.hpp"
#include "ctsqs/aws/client.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/collector/config.hpp"
#include "ctsqs/integrity/trail_verifier.hpp"
#include "ctsqs/ledger/audit.hpp"
#include "ctsqs/ledger/open_ledger.hpp"
#include "ctsqs/collector/object_store.hpp"
#include "ctsqs/collector/sqs_source.hpp"
#include "unit/cloudtrail_decoders.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <optional>

using namespace ctsqs;
using namespace ctsqs::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

/// A sink of the embedder's own; each flush takes `flush_time` (a slow output).
class CountingSink final : public Sink {
 public:
  explicit CountingSink(std::chrono::milliseconds flush_time = 0ms) : flush_time_(flush_time) {}
  result<void> write(const Event&, Diagnostics&) override {
    ++pending_;
    return {};
  }
  result<void> flush(Diagnostics&) override {
    std::this_thread::sleep_for(flush_time_);
    delivered_ += pending_.exchange(0);
    return {};
  }
  std::uint64_t delivered() const { return delivered_; }

 private:
  std::chrono::milliseconds flush_time_;
  std::atomic<std::uint64_t> pending_{0}, delivered_{0};
};

enum class Via { callback, future, deferred, awaitable };

const char* name(Via v) {
  switch (v) {
    case Via::callback: return "callback";
    case Via::future: return "use_future";
    case Via::deferred: return "deferred";
    case Via::awaitable: return "use_awaitable";
  }
  return "?";
}

/// Runs `io` until `done()` or `limit` passed.
template <class Pred>
void run_until(asio::io_context& io, Pred done, steady::duration limit) {
  const auto end = steady::now() + limit;
  while (!done() && steady::now() < end) {
    if (io.stopped()) io.restart();
    io.run_for(50ms);
  }
}

/// Starts an operation through the token `via` names (`start(token)` returns what the operation
/// returns for that token) and runs `io` until it completed: its error code and result. With
/// `deferred`, `io` is first run for a while to show that nothing starts before the deferred
/// operation is launched (`idle()` must then still hold).
template <class R, class Start, class Idle>
std::optional<std::pair<error_code, R>> drive(asio::io_context& io, Via via, Start start, Idle idle,
                                              steady::duration limit) {
  std::optional<std::pair<error_code, R>> out;
  switch (via) {
    case Via::callback:
      start([&out](error_code ec, R r) { out.emplace(ec, std::move(r)); });
      run_until(io, [&] { return out.has_value(); }, limit);
      break;
    case Via::future: {
      std::future<R> f = start(asio::use_future);
      run_until(io, [&] { return f.wait_for(0s) == std::future_status::ready; }, limit);
      if (f.wait_for(0s) != std::future_status::ready) break;
      try {
        out.emplace(error_code{}, f.get());
      } catch (const boost::system::system_error& e) {
        out.emplace(e.code(), R{});
      }
      break;
    }
    case Via::deferred: {
      auto op = start(asio::deferred);
      run_until(io, [] { return false; }, 1500ms);
      CHECK(idle());  // a deferred operation does nothing until it is launched
      std::move(op)([&out](error_code ec, R r) { out.emplace(ec, std::move(r)); });
      run_until(io, [&] { return out.has_value(); }, limit);
      break;
    }
    case Via::awaitable:
      asio::co_spawn(
          io,
          [&out, &start]() -> asio::awaitable<void> {
            try {
              R r = co_await start(asio::use_awaitable);
              out.emplace(error_code{}, std::move(r));
            } catch (const boost::system::system_error& e) {
              out.emplace(e.code(), R{});
            }
          },
          asio::detached);
      run_until(io, [&] { return out.has_value(); }, limit);
      break;
  }
  return out;
}

std::unique_ptr<AssembledCollector> build(const Peers& peers, const TempDir& tmp, asio::io_context& io,
                                          CountingSink& sink, bool drain, const std::string& extra = "") {
  write_text(tmp.path / "collector.json",
             collector_config(peers, "ct-s3-events", "tokens-ext-id", extra.empty() ? R"("outputs":{})" : extra));
  Diagnostics diag;
  auto cfg = load_collector_config(tmp.path / "collector.json", diag);
  INFO(diag.message);
  REQUIRE(cfg.has_value());
  AssemblyOptions ao;
  ao.drain = drain;
  ao.extra_sinks.push_back(&sink);
  ao.log = [](std::string_view) {};
  auto built = build_collector(std::move(*cfg), io.get_executor(), ao, diag);
  INFO(diag.message);
  REQUIRE(built.has_value());
  return std::move(*built);
}

/// Eight CloudTrail files of one day (2026-09-01) under trail/ in bucket trail-bucket on
/// fauxqs's S3 (s3rver's listings with a delimiter miss the common prefixes below the first
/// level), uploaded without notifications; and tmp/collector.json reading S3 there, directly
/// (its other AWS endpoints: the gate). `ctsqs_extra` is merged into the file's ctsqs section.
void make_trail_bucket(const Peers& peers, const TempDir& tmp, const std::string& ctsqs_extra = "") {
  const auto day = tmp.path / "tree/trail/AWSLogs/111111111111/CloudTrail/us-east-1/2026/09/01";
  std::filesystem::create_directories(day);
  for (int i = 0; i < 8; ++i) {
    std::string records;
    for (int r = 0; r < 5; ++r)
      records += std::string(records.empty() ? "" : ",") + R"({"eventVersion":"1.08","eventID":"e)" +
                 std::to_string(i) + "-" + std::to_string(r) +
                 R"(","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventTime":"2026-09-01T0)" +
                 std::to_string(i) + R"(:00:00Z"})";
    write_text(day / ("111111111111_CloudTrail_us-east-1_20260901T0" + std::to_string(i) + "00Z_f" + std::to_string(i) +
                      ".json.gz"),
               gzip(R"({"Records":[)" + records + "]}"));
  }
  REQUIRE(run_process({"node", CTSQS_SOURCE_DIR "/tests/peers/put-objects.mjs", "--s3-endpoint", peers.fauxqs_endpoint(),
                       "--bucket", "trail-bucket", (tmp.path / "tree").string()},
                      {"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"}, tmp.path / "put.out",
                      tmp.path / "put.err") == 0);
  auto text = collector_config(peers, "ct-s3-events", "tokens-ext-id",
                               R"("outputs":{},"concurrency":{"objects_in_flight":1,"messages_in_flight":1})" +
                                   (ctsqs_extra.empty() ? "" : "," + ctsqs_extra));
  const std::string s3_gate = R"("s3":")" + peers.gate_endpoint() + R"(")";
  REQUIRE(text.find(s3_gate) != std::string::npos);
  text.replace(text.find(s3_gate), s3_gate.size(), R"("s3":")" + peers.fauxqs_endpoint() + R"(")");
  write_text(tmp.path / "collector.json", text);
}

std::chrono::system_clock::time_point utc(const char* text) {
  Diagnostics diag;
  auto t = parse_backfill_time(text, "time", diag);
  REQUIRE(t.has_value());
  return *t;
}

PeersOptions peers_options() { return {.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", "tokens-ext-id"}}}; }

}  // namespace

TEST_CASE("completion tokens: a drain completes through a callback, use_future, deferred and use_awaitable",
          "[integration][tokens]") {
  Peers peers(peers_options());
  for (Via via : {Via::callback, Via::future, Via::deferred, Via::awaitable}) {
    INFO(name(via));
    const auto seeded = seed_or_throw(peers, {"--files", "1", "--records", "4", "--routes", "s3", "--drop-test-events",
                                              "--seed", std::to_string(static_cast<int>(via) + 1)});
    REQUIRE(seeded.records == 4);
    TempDir tmp;
    asio::io_context io{1};
    CountingSink sink;
    auto c = build(peers, tmp, io, sink, /*drain=*/true);
    auto out = drive<CollectorResult>(
        io, via, [&c](auto&& token) { return c->async_run(std::forward<decltype(token)>(token)); },
        [&] { return c->metrics().snapshot().messages_received == 0; }, 60s);
    REQUIRE(out.has_value());
    CHECK_FALSE(out->first);
    CHECK(out->second.clean());
    CHECK(sink.delivered() == 4);
    CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  }
}

TEST_CASE("completion tokens: a Collector built by hand drains through each token", "[integration][tokens]") {
  Peers peers(peers_options());
  asio::io_context io{1};
  AwsClientOptions ao;
  ao.credentials.access_key_id = "test";
  ao.credentials.secret_access_key = "test";
  ao.endpoints.region = "us-east-1";
  ao.endpoints.sqs_endpoint = peers.gate_endpoint();
  ao.endpoints.s3_endpoint = peers.gate_endpoint();
  ao.endpoints.s3_force_path_style = true;
  ao.env = environment_from({});
  auto client_made = require_create<AwsClient>(io.get_executor(), ao);
  AwsClient& client = *client_made;
  SqsSourceOptions so;
  so.queue_url = peers.gate_endpoint() + "/000000000000/ct-s3-events";
  so.receive.wait_time = 1s;
  auto source_made = require_create<SqsSource>(client, so);
  SqsSource& source = *source_made;
  S3ObjectStore store(client);
  for (Via via : {Via::callback, Via::future, Via::deferred, Via::awaitable}) {
    INFO(name(via));
    const auto seeded = seed_or_throw(peers, {"--files", "1", "--records", "3", "--routes", "s3", "--drop-test-events",
                                              "--seed", std::to_string(static_cast<int>(via) + 11)});
    REQUIRE(seeded.records == 3);
    CountingSink sink;
    Metrics metrics;
    CollectorOptions o;
    o.drain_empty_polls = 2;
    o.heartbeat.enabled = false;
    o.log = [](std::string_view) {};
    Collector c(io.get_executor(), source, store, sink, cloudtrail_decoders(), o, metrics);
    auto out = drive<CollectorResult>(
        io, via, [&c](auto&& token) { return c.async_run(std::forward<decltype(token)>(token)); },
        [&] { return metrics.snapshot().messages_received == 0; }, 60s);
    REQUIRE(out.has_value());
    CHECK_FALSE(out->first);
    CHECK(out->second.clean());
    CHECK(sink.delivered() == 3);
  }
}

TEST_CASE("completion tokens: a failing sink is the drain's error code, and the result still carries it",
          "[integration][tokens]") {
  Peers peers(peers_options());
  seed_or_throw(peers, {"--files", "1", "--records", "3", "--routes", "s3", "--drop-test-events"});
  const auto port = free_port();  // nothing listens there: the Devo output fails
  TempDir tmp;
  asio::io_context io{1};
  CountingSink sink;
  auto c = build(peers, tmp, io, sink, true,
                 R"("outputs":{"devo":{"address":"127.0.0.1","port":)" + std::to_string(port) +
                     R"(,"tls":false,"flush_timeout":"1s","connect_timeout":"1s","backoff_max":"200ms"}},)"
                     R"("on_sink_failure":{"give_up_after_flushes":1,"give_up_after":"0s"})");
  std::optional<std::tuple<error_code, CollectorResult>> out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await c->async_run(asio::as_tuple(asio::use_awaitable)); },
      asio::detached);
  run_until(io, [&] { return out.has_value(); }, 60s);
  REQUIRE(out.has_value());
  const auto& [ec, res] = *out;
  CHECK(ec == client_errc::sink_failed);
  CHECK(res.sink_error == ec);
  CHECK_FALSE(res.sink_error_message.empty());
}

TEST_CASE("completion tokens: a parallel_group timeout stops a running collector with its grace",
          "[integration][tokens]") {
  Peers peers(peers_options());
  seed_or_throw(peers, {"--files", "2", "--records", "5", "--routes", "s3", "--drop-test-events"});
  TempDir tmp;
  asio::io_context io{1};
  CountingSink sink;
  auto c = build(peers, tmp, io, sink, /*drain=*/false);  // run mode: only a stop ends it
  asio::steady_timer timeout(io, 4s);
  std::optional<std::pair<error_code, CollectorResult>> out;
  const auto started = steady::now();
  asio::experimental::make_parallel_group(c->async_run(asio::deferred), timeout.async_wait(asio::deferred))
      .async_wait(asio::experimental::wait_for_one(),
                  [&](std::array<std::size_t, 2> order, error_code ec, CollectorResult r, error_code) {
                    CHECK(order[0] == 1);  // the timer ended first and cancelled the run
                    out.emplace(ec, std::move(r));
                  });
  run_until(io, [&] { return out.has_value(); }, 40s);
  REQUIRE(out.has_value());
  // Promptly after the timeout: the messages were done, nothing waited for the 30 s grace.
  CHECK(steady::now() - started < 4s + 8s);
  CHECK(out->first == asio::error::operation_aborted);
  CHECK(out->second.unfinished == 0);
  CHECK(out->second.permanent_failures == 0);
  CHECK(sink.delivered() == 10);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("completion tokens: cancellation types of a collector run (total is ignored, partial stops)",
          "[integration][tokens]") {
  Peers peers(peers_options());
  TempDir tmp;
  asio::io_context io{1};
  CountingSink sink;
  auto c = build(peers, tmp, io, sink, /*drain=*/false);
  asio::cancellation_signal cancel;
  std::optional<std::pair<error_code, CollectorResult>> out;
  c->async_run(asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, CollectorResult r) {
    out.emplace(ec, std::move(r));
  }));
  run_until(io, [] { return false; }, 1500ms);
  cancel.emit(asio::cancellation_type::total);  // cannot undo what a run did: ignored
  run_until(io, [&] { return out.has_value(); }, 2500ms);
  CHECK_FALSE(out.has_value());
  const auto emitted = steady::now();
  cancel.emit(asio::cancellation_type::partial);
  run_until(io, [&] { return out.has_value(); }, 30s);
  REQUIRE(out.has_value());
  CHECK(steady::now() - emitted < 10s);
  CHECK(out->first == asio::error::operation_aborted);
  CHECK(out->second.clean());
  // The slot was cleared on completion: emitting again touches nothing.
  cancel.emit(asio::cancellation_type::terminal);
}

TEST_CASE("completion tokens: a backfill stops through a bound cancellation slot, its state saved",
          "[integration][tokens][backfill]") {
  Peers peers(peers_options());
  TempDir tmp;
  make_trail_bucket(peers, tmp);
  Diagnostics diag;
  auto cfg = load_collector_config(tmp.path / "collector.json", diag);
  INFO(diag.message);
  REQUIRE(cfg.has_value());
  asio::io_context io{1};
  CountingSink sink(1500ms);  // each object's flush takes 1.5 s: 8 objects take 12 s or more
  BackfillOptions bo;
  bo.range.bucket = "trail-bucket";
  bo.range.prefix = "trail";
  bo.range.since = utc("2026-09-01");
  bo.range.until = utc("2026-09-02");
  bo.state_file = tmp.path / "state.json";
  bo.assembly.extra_sinks.push_back(&sink);
  bo.assembly.log = [](std::string_view) {};
  auto b = Backfill::create(std::move(*cfg), io.get_executor(), bo, diag);
  INFO(diag.message);
  REQUIRE(b.has_value());
  asio::cancellation_signal cancel;
  std::optional<std::pair<error_code, BackfillResult>> out;
  (*b)->async_run(asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, BackfillResult r) {
    out.emplace(ec, std::move(r));
  }));
  run_until(io, [&] { return sink.delivered() > 0; }, 30s);
  REQUIRE(sink.delivered() > 0);
  const auto emitted = steady::now();
  cancel.emit(asio::cancellation_type::terminal);
  run_until(io, [&] { return out.has_value(); }, 40s);
  REQUIRE(out.has_value());
  CHECK(steady::now() - emitted < 8s);
  CHECK(out->first == asio::error::operation_aborted);
  CHECK(out->second.interrupted);
  CHECK(out->second.objects_done < 8);
  CHECK(out->second.objects_done > 0);
  CHECK(out->second.state_error.empty());
  CHECK(std::filesystem::exists(bo.state_file));
}

TEST_CASE("completion tokens: whoami through each token", "[integration][tokens]") {
  Peers peers(peers_options());
  asio::io_context io{1};
  AwsClientOptions ao;
  ao.credentials.access_key_id = "test";
  ao.credentials.secret_access_key = "test";
  ao.endpoints.region = "us-east-1";
  ao.endpoints.sts_endpoint = peers.gate_endpoint();
  ao.env = environment_from({});
  auto client_made = require_create<AwsClient>(io.get_executor(), ao);
  AwsClient& client = *client_made;
  Diagnostics ep_diag;
  auto ep = client.endpoint(AwsService::sts, {}, ep_diag);
  REQUIRE(ep.has_value());
  const sts::StsTarget target{ep->scheme, ep->host, ep->base_path};
  for (Via via : {Via::callback, Via::future, Via::deferred, Via::awaitable}) {
    INFO(name(via));
    Diagnostics diag;
    const auto before = client.stats().calls;
    auto out = drive<sts::CallerIdentity>(
        io, via,
        [&](auto&& token) { return async_get_caller_identity(client, diag, std::forward<decltype(token)>(token)); },
        [&] { return client.stats().calls == before; }, 30s);
    REQUIRE(out.has_value());
    INFO(to_string(diag));
    CHECK_FALSE(out->first);
    CHECK(out->second.account.size() == 12);
    // The same through AwsClient::async_call.
    CallOptions co;
    co.operation = "GetCallerIdentity";
    const auto before_call = client.stats().calls;
    auto resp = drive<HttpResponse>(
        io, via,
        [&](auto&& token) {
          return client.async_call("sts", sts::make_get_caller_identity_request(target), co, diag,
                                   std::forward<decltype(token)>(token));
        },
        [&] { return client.stats().calls == before_call; }, 30s);
    REQUIRE(resp.has_value());
    CHECK_FALSE(resp->first);
    CHECK(resp->second.status == 200);
    CHECK(resp->second.body.find(out->second.arn) != std::string::npos);
  }
}

TEST_CASE("completion tokens: a terminal cancellation ends an AWS call in progress at once",
          "[integration][tokens]") {
  asio::io_context io{1};
  // A server that accepts and never answers.
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket held(io);
  acceptor.async_accept(held, [](error_code) {});
  AwsClientOptions ao;
  ao.credentials.access_key_id = "test";
  ao.credentials.secret_access_key = "test";
  ao.endpoints.region = "us-east-1";
  ao.endpoints.sts_endpoint = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  ao.env = environment_from({});
  auto client_made = require_create<AwsClient>(io.get_executor(), ao);
  AwsClient& client = *client_made;
  for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::all}) {
    Diagnostics diag;
    asio::cancellation_signal cancel;
    std::optional<std::pair<error_code, sts::CallerIdentity>> out;
    async_get_caller_identity(client, diag,
                              asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, sts::CallerIdentity id) {
                                out.emplace(ec, std::move(id));
                              }));
    run_until(io, [&] { return out.has_value(); }, 700ms);
    REQUIRE_FALSE(out.has_value());  // waiting for an answer that does not come
    const auto emitted = steady::now();
    cancel.emit(type);
    run_until(io, [&] { return out.has_value(); }, 20s);
    REQUIRE(out.has_value());
    CHECK(steady::now() - emitted < 2s);
    CHECK(out->first == asio::error::operation_aborted);
    if (held.is_open()) held.close();
    acceptor.async_accept(held, [](error_code) {});
  }
}

TEST_CASE("completion tokens: ledger init through each token", "[integration][tokens][ledger]") {
  asio::io_context io{1};
  TempDir tmp;
  for (Via via : {Via::callback, Via::future, Via::deferred, Via::awaitable}) {
    INFO(name(via));
    Diagnostics diag;
    const auto path = tmp.path / (std::string(name(via)) + ".db");
    auto out = drive<LedgerInitReport>(
        io, via,
        [&](auto&& token) {
          return async_init_ledger(io.get_executor(), path.string(), std::chrono::hours(24 * 30), nullptr, diag,
                                   std::forward<decltype(token)>(token));
        },
        [&] { return !std::filesystem::exists(path); }, 30s);
    REQUIRE(out.has_value());
    INFO(to_string(diag));
    CHECK_FALSE(out->first);
    CHECK(out->second.table_status == "ready");
    CHECK(std::filesystem::exists(path));
  }
  Diagnostics diag;
  auto out = drive<LedgerInitReport>(
      io, Via::callback,
      [&](auto&& token) {
        return async_init_ledger(io.get_executor(), "dynamodb://ctsqs-ledger", std::chrono::hours(24), nullptr, diag,
                                 std::forward<decltype(token)>(token));
      },
      [] { return true; }, 30s);
  REQUIRE(out.has_value());
  INFO(diag.message);
  CHECK(out->first == client_errc::invalid_argument);
  CHECK(diag.message.find("AWS client") != std::string::npos);
}

TEST_CASE("completion tokens: a verification and a ledger audit through each token", "[integration][tokens][integrity]") {
  Peers peers(peers_options());
  TempDir tmp;
  const auto ledger = tmp.path / "ledger.db";
  make_trail_bucket(peers, tmp, R"("ledger":")" + ledger.string() + R"(")");
  asio::io_context io{1};
  {
    Diagnostics diag;
    std::optional<error_code> init;
    async_init_ledger(io.get_executor(), ledger.string(), std::chrono::hours(24), nullptr, diag,
                      [&](error_code ec, LedgerInitReport) { init = ec; });
    run_until(io, [&] { return init.has_value(); }, 30s);
    REQUIRE(init == error_code{});
  }
  Diagnostics diag;
  auto cfg = load_collector_config(tmp.path / "collector.json", diag);
  INFO(diag.message);
  REQUIRE(cfg.has_value());
  integrity::VerifyOptions vo;
  vo.bucket = "trail-bucket";
  vo.prefix = "trail";
  vo.since = utc("2026-09-01");
  vo.until = utc("2026-09-02");
  vo.log = [](std::string_view) {};
  for (Via via : {Via::callback, Via::future, Via::deferred, Via::awaitable}) {
    INFO(name(via));
    auto v = integrity::TrailVerifier::create(*cfg, io.get_executor(), vo, diag);
    INFO(diag.message);
    REQUIRE(v.has_value());
    auto out = drive<integrity::VerifyResult>(
        io, via, [&](auto&& token) { return (*v)->async_run(std::forward<decltype(token)>(token)); },
        [&] { return (*v)->progress().logs_done == 0 && (*v)->progress().digests_total == 0; }, 60s);
    REQUIRE(out.has_value());
    CHECK_FALSE(out->first);
    CHECK_FALSE(out->second.interrupted);
    CHECK(out->second.logs_listed == 8);  // the result of the run came through the token

    AuditOptions ao;
    ao.verify = vo;
    auto a = LedgerAudit::create(*cfg, io.get_executor(), ao, diag);
    INFO(diag.message);
    REQUIRE(a.has_value());
    auto audited = drive<AuditResult>(
        io, via, [&](auto&& token) { return (*a)->async_run(std::forward<decltype(token)>(token)); },
        [] { return true; }, 60s);
    REQUIRE(audited.has_value());
    CHECK_FALSE(audited->first);
    CHECK_FALSE(audited->second.verify.interrupted);
    CHECK(audited->second.listed == 0);  // no digest, so nothing listed to look up
  }
}
