// Integration: the library embedded on the test's own io_context (SqsSource, S3ObjectStore,
// Collector, a custom Sink) against the real peers: a slow sink gets its messages' visibility
// extended instead of redelivered; the Prometheus endpoint serves the counters.
#include "collector_helpers.hpp"

#include "catch.hpp"
#include "unit/catch_result.hpp"
#include "unit/cloudtrail_decoders.hpp"
#include "ctsqs/aws/client.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/aws/credentials/provider.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/ledger/sqlite_ledger.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/decode/tag_router.hpp"
#include "ctsqs/collector/metrics_server.hpp"
#include "ctsqs/collector/object_store.hpp"
#include "ctsqs/collector/sqs_source.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>

using namespace ctsqs;
using namespace ctsqs::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// A sink whose flush takes longer than the queue's visibility timeout.
class SlowSink final : public Sink {
 public:
  explicit SlowSink(std::chrono::milliseconds flush_time) : flush_time_(flush_time) {}
  result<void> write(const Event& e, Diagnostics&) override {
    std::lock_guard lk(mu_);
    pending_.push_back(e.record);
    return {};
  }
  result<void> flush(Diagnostics&) override {
    std::this_thread::sleep_for(flush_time_);
    std::lock_guard lk(mu_);
    for (auto& r : pending_) delivered_.push_back(std::move(r));
    pending_.clear();
    return {};
  }
  std::vector<std::string> delivered() const {
    std::lock_guard lk(mu_);
    return delivered_;
  }

 private:
  std::chrono::milliseconds flush_time_;
  mutable std::mutex mu_;
  std::vector<std::string> pending_, delivered_;
};

asio::awaitable<void> run_assembled(AssembledCollector* c, int* done) {
  co_await c->async_run();
  ++*done;
}

asio::awaitable<void> run(Collector* c, CollectorResult* out, bool* done) {
  *out = co_await c->async_run();
  *done = true;
}

struct Embedded {
  asio::io_context ioc;
  std::unique_ptr<AwsClient> client;
  std::unique_ptr<SqsSource> source;
  std::unique_ptr<S3ObjectStore> store;

  Embedded(const Peers& peers, const std::string& queue, std::chrono::seconds visibility) {
    AwsClientOptions ao;
    ao.credentials.access_key_id = "test";
    ao.credentials.secret_access_key = "test";
    ao.endpoints.region = "us-east-1";
    ao.endpoints.sqs_endpoint = peers.gate_endpoint();
    ao.endpoints.s3_endpoint = peers.gate_endpoint();
    ao.endpoints.sts_endpoint = peers.gate_endpoint();
    ao.endpoints.s3_force_path_style = true;
    ao.env = environment_from({});
    client = require_create<AwsClient>(ioc.get_executor(), ao);
    SqsSourceOptions so;
    so.queue_url = peers.gate_endpoint() + "/000000000000/" + queue;
    so.receive.wait_time = 1s;
    so.receive.visibility_timeout = visibility;
    source = require_create<SqsSource>(*client, so);
    store = std::make_unique<S3ObjectStore>(*client);
  }
};


}  // namespace

TEST_CASE("collector: a slow sink triggers visibility extension instead of redelivery", "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {}});
  const auto seeded = seed_or_throw(peers, {"--files", "4", "--records", "15", "--routes", "s3", "--drop-test-events"});
  REQUIRE(seeded.records == 60);
  // Every flush outlasts the 5 s visibility timeout; extensions every 1 s leave 4 s of slack
  // for a late extension on a loaded machine (a 3 s timeout left 2 s).
  Embedded e(peers, "ct-s3-events", 5s);
  SlowSink sink(6s);
  Metrics metrics;
  CollectorOptions o;
  o.collector_id = "slow";
  o.receive = SqsReceiveOptions{.visibility_timeout = 5s, .visibility_extension_interval = 1s};
  o.drain_empty_polls = 2;
  o.heartbeat.enabled = false;
  Collector c(e.ioc.get_executor(), *e.source, *e.store, sink, cloudtrail_decoders(), o, metrics);
  CollectorResult res;
  bool done = false;
  asio::co_spawn(e.ioc, run(&c, &res, &done), asio::detached);
  e.ioc.run_for(120s);
  REQUIRE(done);
  const auto s = metrics.snapshot();
  CHECK(res.clean());
  CHECK(s.visibility_extensions > 0);
  CHECK(s.messages_received == 4);  // each message exactly once: none came back
  CHECK(s.messages_deleted == 4);
  CHECK(sink.delivered().size() == 60);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("collector: a failing sink never gets its messages deleted", "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {}});
  seed_or_throw(peers, {"--files", "2", "--records", "5", "--routes", "s3", "--drop-test-events"});
  Embedded e(peers, "ct-s3-events", 30s);
  struct FailingSink final : Sink {
    result<void> write(const Event&, Diagnostics&) override { return {}; }
    result<void> flush(Diagnostics&) override { return make_error_code(client_errc::sink_failed); }
  } sink;
  Metrics metrics;
  CollectorOptions o;
  o.receive = SqsReceiveOptions{.visibility_timeout = 30s, .visibility_extension_interval = 10s};
  o.retry_backoff_min = 20s;  // hidden well past the end of this test
  o.drain_empty_polls = 2;
  o.heartbeat.enabled = false;
  Collector c(e.ioc.get_executor(), *e.source, *e.store, sink, cloudtrail_decoders(), o, metrics);
  CollectorResult res;
  bool done = false;
  asio::co_spawn(e.ioc, run(&c, &res, &done), asio::detached);
  // The drain cannot end while the released messages are due back; stop it after a while.
  asio::steady_timer t(e.ioc, 6s);
  t.async_wait([&](boost::system::error_code) { c.request_stop(); });
  e.ioc.run_for(60s);
  REQUIRE(done);
  const auto s = metrics.snapshot();
  CHECK(s.messages_deleted == 0);
  CHECK(s.messages_released == 2);
  CHECK(s.sink_failures >= 1);
  CHECK(res.unfinished == 2);
  CHECK(queue_depth(peers, "ct-s3-events").second == 2);  // still there, hidden for the backoff
}

TEST_CASE("build_collector: a Devo template file runs embedded, with the application's sink beside its output",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", "embed-ext-id"}}});
  const auto seeded = seed_or_throw(peers, {"--files", "3", "--records", "7", "--routes", "s3", "--drop-test-events"});
  REQUIRE(seeded.records == 21);
  TempDir tmp;
  const auto out = tmp.path / "out";
  write_text(tmp.path / "collector.json",
             collector_config(peers, "ct-s3-events", "embed-ext-id",
                              R"("outputs":{"directory":{"path":")" + out.string() + R"(","format":"raw"}})"));
  Diagnostics diag;
  auto cfg = load_collector_config(tmp.path / "collector.json", diag);
  REQUIRE(cfg.has_value());
  asio::io_context ioc{1};
  SlowSink mine(0ms);
  AssemblyOptions opts;
  opts.drain = true;
  opts.extra_sinks.push_back(&mine);
  std::vector<std::string> log;
  opts.log = [&log](std::string_view l) { log.emplace_back(l); };
  auto built = build_collector(std::move(*cfg), ioc.get_executor(), opts, diag);
  REQUIRE(built.has_value());
  CollectorResult res;
  bool done = false;
  asio::co_spawn(
      ioc, [&]() -> asio::awaitable<void> {
        res = co_await (*built)->async_run();
        done = true;
      },
      asio::detached);
  ioc.run_for(90s);
  REQUIRE(done);
  CHECK(res.clean());
  // Both the configured directory output and the application's sink got every event.
  Delivered d;
  read_delivered(out, d);
  CHECK(d.by_event_id.size() == 21);
  CHECK(mine.delivered().size() == 21);
  std::uint64_t per_tag = 0;
  for (auto& [tag, n] : (*built)->delivered_per_tag()) per_tag += n;
  CHECK(per_tag == 21);
  CHECK((*built)->metrics().snapshot().messages_deleted == 3);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("build_collector: a file with no output writes to stdout, the library's default",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", "embed-ext-id"}}});
  const auto seeded = seed_or_throw(peers, {"--files", "2", "--records", "4", "--routes", "s3", "--drop-test-events"});
  REQUIRE(seeded.records == 8);
  TempDir tmp;
  write_text(tmp.path / "collector.json", collector_config(peers, "ct-s3-events", "embed-ext-id"));
  Diagnostics diag;
  auto cfg = load_collector_config(tmp.path / "collector.json", diag);
  REQUIRE(cfg.has_value());
  REQUIRE(cfg->outputs.empty());
  asio::io_context ioc{1};
  AssemblyOptions opts;
  opts.drain = true;
  opts.log = [](std::string_view) {};
  auto built = build_collector(std::move(*cfg), ioc.get_executor(), opts, diag);
  REQUIRE(built.has_value());
  // Standard output goes to a file for the run, as a user's `> file` would send it.
  const auto captured = tmp.path / "stdout.txt";
  std::fflush(stdout);
  const int saved = ::dup(1);
  const int fd = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  ::dup2(fd, 1);
  ::close(fd);
  CollectorResult res;
  bool done = false;
  asio::co_spawn(
      ioc, [&]() -> asio::awaitable<void> {
        res = co_await (*built)->async_run();
        done = true;
      },
      asio::detached);
  ioc.run_for(90s);
  ::dup2(saved, 1);
  ::close(saved);
  REQUIRE(done);
  CHECK(res.clean());
  std::ifstream in(captured);
  std::string line;
  std::size_t lines = 0;
  while (std::getline(in, line))
    if (line.find("\"eventID\"") != std::string::npos) ++lines;
  CHECK(lines == 8);  // not zero sinks: the messages were deleted, so the events must be here
  CHECK((*built)->metrics().snapshot().messages_deleted == 2);
}

TEST_CASE("build_collector: refuses a pipeline with no output", "[integration][collector]") {
  asio::io_context ioc{1};
  Diagnostics diag;
  const std::string json =
      R"({"inputs":{"sqs_collector":{"id":"1","region":"us-east-1","credentials":{"aws_access_key_id":"test","aws_secret_access_key":"test"},)"
      R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q","services":{"aws_sqs_cloudtrail":{}}}}})";
  auto cfg = parse_collector_config(json, "t.json", diag, {.validate = false});
  REQUIRE(cfg.has_value());
  AssemblyOptions opts;
  opts.extra_sinks.push_back(nullptr);  // an embedder's sink that is not there
  auto built = build_collector(std::move(*cfg), ioc.get_executor(), opts, diag);
  REQUIRE_FALSE(built.has_value());
  CHECK(diag.message.find("extra_sinks") != std::string::npos);
}

TEST_CASE("build_collector: a Devo output that fails ends the drain with Devo's own reason, not a generic one",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", "embed-ext-id"}}});
  seed_or_throw(peers, {"--files", "1", "--records", "3", "--routes", "s3", "--drop-test-events",
                        "--max-receive-count", "100"});
  const auto port = free_port();  // nothing listens there
  TempDir tmp;
  write_text(tmp.path / "collector.json",
             collector_config(peers, "ct-s3-events", "embed-ext-id",
                              R"("outputs":{"devo":{"address":"127.0.0.1","port":)" + std::to_string(port) +
                                  R"(,"tls":false,"flush_timeout":"1s","connect_timeout":"1s","backoff_max":"200ms"}},)"
                                  R"("on_sink_failure":{"give_up_after_flushes":1,"give_up_after":"0s"})"));
  Diagnostics diag;
  auto cfg = load_collector_config(tmp.path / "collector.json", diag);
  REQUIRE(cfg.has_value());
  asio::io_context ioc{1};
  AssemblyOptions opts;
  opts.drain = true;
  opts.retry_backoff_min = 1s;
  std::vector<std::string> log;
  opts.log = [&log](std::string_view l) { log.emplace_back(l); };
  auto built = build_collector(std::move(*cfg), ioc.get_executor(), opts, diag);
  REQUIRE(built.has_value());
  CollectorResult res;
  bool done = false;
  std::chrono::steady_clock::time_point done_at;
  asio::co_spawn(
      ioc, [&]() -> asio::awaitable<void> {
        res = co_await (*built)->async_run();
        done = true;
        done_at = std::chrono::steady_clock::now();
      },
      asio::detached);
  ioc.run_for(60s);
  REQUIRE(done);
  // Nothing of the collector keeps the embedder's io_context busy after the run (a grace
  // period timer kept it running 30 s longer).
  CHECK(std::chrono::steady_clock::now() - done_at < 5s);
  std::string all;
  for (auto& l : log) all += l + "\n";
  INFO(all);
  CHECK(res.sink_error == client_errc::sink_failed);
  const std::string endpoint = "127.0.0.1:" + std::to_string(port);
  CHECK(res.sink_error_message.find("devo: connection to " + endpoint + " refused") != std::string::npos);
  CHECK(all.find("sink flush failed (sink failed to deliver)") == std::string::npos);
  CHECK((*built)->metrics().snapshot().messages_deleted == 0);
}

TEST_CASE("build_collector: two collectors in one process keep their own tag limits", "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", "embed-ext-id"}}});
  TempDir tmp;
  // Three services, one file each; every object announced on two queues (S3 -> SQS, S3 -> SNS -> SQS).
  const auto corpus = tmp.path / "corpus";
  fs::create_directories(corpus);
  const char* sources[] = {"s3.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com"};
  for (int f = 0; f < 3; ++f)
    write_text(corpus / ("file" + std::to_string(f) + ".json"),
               std::string(R"({"Records":[{"eventVersion":"1.08","eventSource":")") + sources[f] +
                   R"(","eventName":"Call","awsRegion":"us-east-1","eventID":"e)" + std::to_string(f) + R"("}]})");
  seed_or_throw(peers, {"--routes", "s3,sns", "--drop-test-events", corpus.string()});
  // A: at most one distinct tag. B: the default (256). Built A first, then B, run together.
  auto build = [&](const std::string& queue, const std::string& extra) {
    write_text(tmp.path / (queue + ".json"), collector_config(peers, queue, "embed-ext-id", extra));
    Diagnostics diag;
    auto cfg = load_collector_config(tmp.path / (queue + ".json"), diag);
    REQUIRE(cfg.has_value());
    return std::move(*cfg);
  };
  asio::io_context ioc{1};
  SlowSink sink_a(0ms), sink_b(0ms);
  std::vector<std::string> log;
  auto assemble = [&](CollectorConfig cfg, Sink& sink) {
    AssemblyOptions opts;
    opts.drain = true;
    opts.extra_sinks.push_back(&sink);
    opts.log = [&log](std::string_view l) { log.emplace_back(l); };
    Diagnostics diag;
    auto built = build_collector(std::move(cfg), ioc.get_executor(), opts, diag);
    REQUIRE(built.has_value());
    return std::move(*built);
  };
  auto a = assemble(build("ct-sns-events", R"("tags":{"max_distinct":1})"), sink_a);
  auto b = assemble(build("ct-s3-events", ""), sink_b);
  int done = 0;
  asio::co_spawn(ioc, run_assembled(a.get(), &done), asio::detached);
  asio::co_spawn(ioc, run_assembled(b.get(), &done), asio::detached);
  ioc.run_for(90s);
  REQUIRE(done == 2);
  std::string all;
  for (auto& l : log) all += l + "\n";
  INFO(all);
  std::map<std::string, std::uint64_t> want_b{{"cloud.aws.cloudtrail.iam", 1}, {"cloud.aws.cloudtrail.s3", 1},
                                              {"cloud.aws.cloudtrail.sts", 1}};
  CHECK(b->delivered_per_tag() == want_b);  // B's bound is its own, not A's
  std::uint64_t a_events = 0;
  for (auto& [tag, n] : a->delivered_per_tag()) a_events += n;
  CHECK(a_events == 3);
  CHECK(a->delivered_per_tag().size() == 2);  // one tag admitted, the rest as service "unknown"
  CHECK(a->delivered_per_tag().count("cloud.aws.cloudtrail.unknown") == 1);
}

TEST_CASE("build_collector: a code-first config with the embedder's environment, credentials, ledger and tag limits",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {}});
  TempDir tmp;
  const auto corpus = tmp.path / "corpus";
  fs::create_directories(corpus);
  const char* sources[] = {"s3.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com"};
  for (int f = 0; f < 3; ++f)
    write_text(corpus / ("file" + std::to_string(f) + ".json"),
               std::string(R"({"Records":[{"eventVersion":"1.08","eventSource":")") + sources[f] +
                   R"(","eventName":"Call","awsRegion":"us-east-1","eventID":"c)" + std::to_string(f) + R"("}]})");
  seed_or_throw(peers, {"--routes", "s3", "--drop-test-events", corpus.string()});
  // No collector file: the queue as AWS names it (its region from the URL), every request sent
  // to the gate through the embedder's environment, signed with the embedder's credentials
  // (the environment has none, nor does the configuration).
  auto cfg = CollectorConfig::for_queue("https://sqs.us-east-1.amazonaws.com/000000000000/ct-s3-events");
  CHECK(cfg.aws.region == "us-east-1");
  CHECK(cfg.services.size() == 1);
  CHECK(cfg.services[0].routing_template ==
        ServiceHandlerRegistry::builtin().find("aws_sqs_cloudtrail")->default_routing_template());
  CHECK_FALSE(cfg.heartbeat.enabled);
  cfg.sqs.wait_time = 1s;
  Diagnostics diag;
  auto ledger = SqliteLedger::open({.path = (tmp.path / "ledger.db").string()}, diag);
  REQUIRE(ledger.has_value());
  asio::io_context ioc{1};
  SlowSink mine(0ms);
  AssemblyOptions opts;
  opts.drain = true;
  opts.extra_sinks.push_back(&mine);
  opts.env = environment_from({{"AWS_ENDPOINT_URL", peers.gate_endpoint()}});
  opts.credentials_provider =
      std::make_shared<StaticCredentialsProvider>(Credentials{.access_key_id = "test", .secret_access_key = "test"});
  opts.ledger = ledger->get();
  opts.tag_limits = std::make_shared<TagLimits>(TagLimits::default_max_value_length, 1);
  std::vector<std::string> log;
  opts.log = [&log](std::string_view l) { log.emplace_back(l); };

  // A registry of the embedder's own is the one consulted: one without the service refuses it.
  ServiceHandlerRegistry empty_registry;
  AssemblyOptions with_registry = opts;
  with_registry.registry = &empty_registry;
  Diagnostics refused;
  CHECK_FALSE(build_collector(cfg, ioc.get_executor(), with_registry, refused).has_value());
  CHECK(refused.message.find("unknown service") != std::string::npos);
  CHECK(refused.message.find("aws_sqs_cloudtrail") != std::string::npos);

  auto built = build_collector(cfg, ioc.get_executor(), opts, diag);
  REQUIRE(built.has_value());
  CHECK((*built)->sqs_endpoint() == peers.gate_endpoint());
  int done = 0;
  asio::co_spawn(ioc, run_assembled(built->get(), &done), asio::detached);
  ioc.run_for(90s);
  REQUIRE(done == 1);
  std::string all;
  for (auto& l : log) all += l + "\n";
  INFO(all);
  CHECK(mine.delivered().size() == 3);
  // The embedder's tag limits (one distinct tag): the other services' events go to "unknown".
  const auto per_tag = (*built)->delivered_per_tag();
  CHECK(per_tag.size() == 2);
  CHECK(per_tag.count("cloud.aws.cloudtrail.unknown") == 1);
  // The embedder's ledger recorded the three objects.
  CHECK((*built)->metrics().snapshot().ledger_records == 3);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("build_collector: refuses what the CLI refuses, naming the setting", "[integration][collector]") {
  asio::io_context ioc{1};
  Diagnostics diag;
  const std::string base =
      R"({"inputs":{"sqs_collector":{"id":"1","region":"us-east-1","credentials":{"aws_access_key_id":"test","aws_secret_access_key":"test"},)"
      R"("base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q","services":{"aws_sqs_cloudtrail":{}})";
  auto build = [&](const std::string& json) {
    auto cfg = parse_collector_config(json, "t.json", diag, {.validate = false});
    REQUIRE(cfg.has_value());
    return build_collector(std::move(*cfg), ioc.get_executor(), {}, diag);
  };
  CHECK_FALSE(build(base + R"(,"enabled":false}}})").has_value());
  CHECK(diag.message.find("inputs.sqs_collector.enabled is false") != std::string::npos);
  CHECK_FALSE(build(base + R"(,"direct_mode":true}}})").has_value());
  CHECK(diag.message.find("direct_mode is not supported") != std::string::npos);
  auto placeholder = base;
  placeholder.replace(placeholder.find("us-east-1"), 9, "<REGION>");
  CHECK_FALSE(build(placeholder + "}}}").has_value());
  CHECK(diag.message.find("invalid configuration") != std::string::npos);
  CHECK_FALSE(build(base + R"(}},"ctsqs":{"metrics":{"listen":"0.0.0.0:9464"}}})").has_value());
  CHECK(diag.message.find("ctsqs.metrics.listen") != std::string::npos);
  CHECK(build(base + "}}}").has_value());
}

TEST_CASE("collector: a sink that keeps failing ends the drain, its messages released and none deleted",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {}});
  seed_or_throw(peers, {"--files", "2", "--records", "5", "--routes", "s3", "--drop-test-events",
                        "--max-receive-count", "100"});  // they come back a few times: no DLQ
  Embedded e(peers, "ct-s3-events", 30s);
  struct FailingSink final : Sink {
    result<void> write(const Event&, Diagnostics&) override { return {}; }
    result<void> flush(Diagnostics& diag) override {
      diag.message = "write /out/x.jsonl: No space left on device";
      return make_error_code(client_errc::sink_failed);
    }
  } sink;
  Metrics metrics;
  CollectorOptions o;
  o.receive = SqsReceiveOptions{.visibility_timeout = 30s, .visibility_extension_interval = 10s};
  o.retry_backoff_min = 1s;
  o.on_sink_failure.give_up_after_flushes = 3;
  o.on_sink_failure.give_up_after = 1s;
  o.drain_empty_polls = 2;
  o.heartbeat.enabled = false;
  std::vector<std::string> logs;
  o.log = [&](std::string_view l) { logs.emplace_back(l); };
  Collector c(e.ioc.get_executor(), *e.source, *e.store, sink, cloudtrail_decoders(), o, metrics);
  CollectorResult res;
  bool done = false;
  asio::co_spawn(e.ioc, run(&c, &res, &done), asio::detached);
  e.ioc.run_for(90s);  // without a bound on sink failures the drain never ends
  REQUIRE(done);
  std::string all;
  for (auto& l : logs) all += l + "\n";
  INFO(all);
  CHECK(res.sink_error == client_errc::sink_failed);
  CHECK(res.sink_error_message == "write /out/x.jsonl: No space left on device");
  CHECK(all.find("keeps failing (write /out/x.jsonl: No space left on device; 3 flushes in a row") !=
        std::string::npos);
  CHECK_FALSE(res.clean());
  CHECK(metrics.snapshot().messages_deleted == 0);
  // None deleted: both still in the queue. Released ones are visible at once; one a long poll
  // took just as the run ended may stay hidden for its visibility timeout (seen on a loaded CI
  // machine), which delays it but loses nothing.
  auto depth = queue_depth(peers, "ct-s3-events");
  for (int i = 0; i < 25 && depth.second > 0; ++i) {
    std::this_thread::sleep_for(200ms);
    depth = queue_depth(peers, "ct-s3-events");
  }
  INFO("visible " << depth.first << ", in flight " << depth.second);
  CHECK(depth.first + depth.second == 2);
  CHECK(depth.first >= 1);
}

TEST_CASE("collector: an exception escaping a message's work ends in 'failed, released', and the drain ends",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {}});
  seed_or_throw(peers, {"--files", "2", "--records", "5", "--routes", "s3", "--drop-test-events"});
  Embedded e(peers, "ct-s3-events", 30s);
  SlowSink sink(0ms);
  Metrics metrics;
  CollectorOptions o;
  o.receive = SqsReceiveOptions{.visibility_timeout = 30s, .visibility_extension_interval = 10s};
  // Released for an immediate retry: each throws again until the queue's redrive policy
  // (3 receives) moves it to the dead-letter queue; then the queue is empty and the drain ends.
  o.retry_backoff_min = 0s;
  o.retry_backoff_max = 0s;
  o.concurrency.messages_in_flight = 2;
  o.drain_empty_polls = 2;
  o.heartbeat.enabled = false;
  std::vector<std::string> logs;
  o.log = [&](std::string_view l) { logs.emplace_back(l); };
  std::vector<std::string> ids;
  MessagePlanner throwing = [&](const SqsMessage& m, Diagnostics&) -> result<MessagePlan> {
    ids.push_back(m.message_id);
    throw std::runtime_error("planner exploded");
  };
  Collector c(e.ioc.get_executor(), *e.source, *e.store, sink, cloudtrail_decoders(), o, metrics, throwing);
  CollectorResult res;
  bool done = false;
  asio::co_spawn(e.ioc, run(&c, &res, &done), asio::detached);
  e.ioc.run_for(60s);
  REQUIRE(done);  // before: the slots stayed taken and the drain waited forever
  std::string all;
  for (auto& l : logs) all += l + "\n";
  INFO(all);
  REQUIRE(ids.size() == 6);  // two messages, three receives each
  for (auto& id : ids)
    CHECK(all.find("message " + id + ": failed, released: unexpected error: planner exploded") != std::string::npos);
  const auto s = metrics.snapshot();
  CHECK(s.messages_deleted == 0);
  CHECK(s.messages_released == 6);
  CHECK(s.messages_in_flight == 0);
  CHECK(res.unfinished == 2);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  CHECK(queue_depth(peers, "ct-dlq").first == 2);  // never deleted: the redrive policy took them
}

TEST_CASE("collector: Prometheus endpoint serves the counters on loopback only", "[integration][collector]") {
  asio::io_context ioc;
  Metrics m;
  m.events_delivered = 12345;
  Diagnostics diag;
  auto bad = MetricsServer::start(ioc.get_executor(), "0.0.0.0:0", [] { return std::string(); }, diag);
  CHECK_FALSE(bad);
  CHECK(diag.message.find("loopback") != std::string::npos);
  auto srv = MetricsServer::start(ioc.get_executor(), "127.0.0.1:0",
                                  [&m] { return to_prometheus(m.snapshot(), "c1"); }, diag);
  REQUIRE(srv);
  const auto port = (*srv)->port();
  auto get = [&](std::string target) {
    HttpResponse r;
    std::atomic<bool> got{false};
    std::thread client([&] {
      r = http_call("GET", port, target);
      got = true;
    });
    while (!got) ioc.run_for(50ms);
    client.join();
    return r;
  };
  const auto resp = get("/metrics");
  CHECK(resp.status == 200);
  CHECK(resp.body.find("ctsqs_events_delivered_total{collector_id=\"c1\"} 12345") != std::string::npos);
  CHECK(get("/other").status == 404);
}

namespace {

// The real SqsSource, recording the ids of the messages it hands out.
class RecordingQueue final : public MessageQueue {
 public:
  explicit RecordingQueue(MessageQueue& q) : q_(q) {}
  asio::awaitable<result<std::vector<SqsMessage>>> async_receive(int max_messages, Diagnostics& diag) override {
    auto r = co_await q_.async_receive(max_messages, diag);
    if (r)
      for (const auto& m : *r) ids.push_back(m.message_id);
    co_return r;
  }
  asio::awaitable<result<std::vector<BatchEntryFailure>>> async_delete(std::vector<std::string> handles,
                                                                       Diagnostics& diag) override {
    co_return co_await q_.async_delete(std::move(handles), diag);
  }
  asio::awaitable<result<std::vector<BatchEntryFailure>>> async_change_visibility(std::vector<VisibilityChange> changes,
                                                                                  Diagnostics& diag) override {
    co_return co_await q_.async_change_visibility(std::move(changes), diag);
  }
  asio::awaitable<result<QueueCounts>> async_queue_counts(Diagnostics& diag) override {
    co_return co_await q_.async_queue_counts(diag);
  }
  std::vector<std::string> ids;

 private:
  MessageQueue& q_;
};

}  // namespace

TEST_CASE("collector: a failed visibility extension is logged naming the messages it concerns",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {}});
  seed_or_throw(peers, {"--files", "2", "--records", "5", "--routes", "s3", "--drop-test-events"});
  // Every extension is refused for good (a 403 is not retried).
  peers.gate_add_faults(
      R"([{"service":"sqs","action":"ChangeMessageVisibilityBatch","status":403,"code":"AccessDenied","times":3}])");
  Embedded e(peers, "ct-s3-events", 10s);
  RecordingQueue queue(*e.source);
  SlowSink sink(3s);  // the messages are still worked on when their extension is due
  Metrics metrics;
  CollectorOptions o;
  o.collector_id = "ext-fail";
  o.receive = SqsReceiveOptions{.visibility_timeout = 10s, .visibility_extension_interval = 1s};
  o.drain_empty_polls = 2;
  o.heartbeat.enabled = false;
  std::vector<std::string> lines;
  o.log = [&lines](std::string_view l) { lines.emplace_back(l); };
  Collector c(e.ioc.get_executor(), queue, *e.store, sink, cloudtrail_decoders(), o, metrics);
  CollectorResult res;
  bool done = false;
  asio::co_spawn(e.ioc, run(&c, &res, &done), asio::detached);
  e.ioc.run_for(120s);
  REQUIRE(done);
  REQUIRE(queue.ids.size() == 2);
  std::string ext;
  for (const auto& l : lines)
    if (l.find("extending the visibility of message(s)") != std::string::npos) ext += l + "\n";
  INFO(ext);
  REQUIRE_FALSE(ext.empty());
  CHECK(ext.find("AccessDenied") != std::string::npos);
  // Each line names the messages it concerns; between them, both were named.
  for (const auto& id : queue.ids) CHECK(ext.find(id) != std::string::npos);
  CHECK(sink.delivered().size() == 10);
}

namespace {
asio::awaitable<void> send_bodies(SqsSource* source, std::vector<std::string> bodies,
                                  result<std::vector<BatchEntryFailure>>* out) {
  Diagnostics diag;
  *out = co_await source->async_send(std::move(bodies), diag);
}
}  // namespace

TEST_CASE("SqsSource::async_send: a refused batch is sent again, entries that fail for good are named by index",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {}});
  create_queue(peers, "ct-send");
  Embedded e(peers, "ct-send", 30s);
  std::vector<std::string> bodies;
  for (int i = 0; i < 12; ++i) bodies.push_back("body-" + std::to_string(i));
  // The first batch call is refused once (retryable): sent again, every body arrives once.
  peers.gate_add_faults(R"([{"service":"sqs","action":"SendMessageBatch","status":503,"code":"ServiceUnavailable","times":1}])");
  result<std::vector<BatchEntryFailure>> sent = make_error_code(client_errc::cancelled);
  asio::co_spawn(e.ioc, send_bodies(e.source.get(), bodies, &sent), asio::detached);
  e.ioc.run_for(60s);
  REQUIRE(sent.has_value());
  CHECK(sent->empty());
  CHECK(queue_depth(peers, "ct-send") == std::pair<long, long>{12, 0});
  // Refused for good (not retryable): each entry fails once, named by its index in `bodies`.
  peers.gate_add_faults(R"([{"service":"sqs","action":"SendMessageBatch","status":400,"code":"AccessDenied","times":2}])");
  e.ioc.restart();
  asio::co_spawn(e.ioc, send_bodies(e.source.get(), bodies, &sent), asio::detached);
  e.ioc.run_for(60s);
  REQUIRE(sent.has_value());
  std::vector<std::string> named;
  for (auto& f : *sent) {
    named.push_back(f.receipt_handle);
    CHECK(f.code == "AccessDenied");
  }
  std::vector<std::string> want;
  for (int i = 0; i < 12; ++i) want.push_back(std::to_string(i));
  CHECK(named == want);
  CHECK(queue_depth(peers, "ct-send") == std::pair<long, long>{12, 0});
}
