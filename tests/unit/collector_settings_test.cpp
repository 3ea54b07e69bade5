// Unit tests of the one settings model: the visibility timeout is set once, on the queue
// (SqsSourceOptions::receive, MessageQueue::receive_options()), and the Collector extends
// messages by it; CollectorOptions::receive, when set, wins. In-memory queue, store and sink.
#include "ctsqs/collector/settings.hpp"

#include "unit/catch_result.hpp"
#include "unit/cloudtrail_decoders.hpp"
#include "unit/gzip_helper.hpp"

#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/aws/credentials/provider.hpp"
#include "ctsqs/collector/config.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/sink/format.hpp"
#include "ctsqs/sink/outputs.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

using namespace ctsqs;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

/// One message announcing one object, then nothing; records every visibility change.
class OneMessageQueue final : public MessageQueue {
 public:
  std::optional<SqsReceiveOptions> receive;  // what receive_options() reports
  std::vector<std::chrono::seconds> extensions;
  bool handed = false, deleted = false;
  asio::awaitable<result<std::vector<SqsMessage>>> async_receive(int, Diagnostics&) override {
    if (handed) {
      asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
      co_await t.async_wait(asio::use_awaitable);
      co_return std::vector<SqsMessage>{};
    }
    handed = true;
    ObjectRef o;
    o.bucket = "b";
    o.key = "k";
    o.region = "us-east-1";
    o.size = 10;
    SqsMessage m;
    m.message_id = "m0";
    m.receipt_handle = "h0";
    m.receive_count = 1;
    m.body = s3_event_notification_body(o, std::chrono::system_clock::now());
    co_return std::vector<SqsMessage>{m};
  }
  asio::awaitable<result<std::vector<BatchEntryFailure>>> async_delete(std::vector<std::string>,
                                                                        Diagnostics&) override {
    deleted = true;
    co_return std::vector<BatchEntryFailure>{};
  }
  asio::awaitable<result<std::vector<BatchEntryFailure>>> async_change_visibility(std::vector<VisibilityChange> c,
                                                                                   Diagnostics&) override {
    for (auto& v : c) extensions.push_back(v.timeout);
    co_return std::vector<BatchEntryFailure>{};
  }
  asio::awaitable<result<QueueCounts>> async_queue_counts(Diagnostics&) override {
    QueueCounts c;
    c.in_flight = handed && !deleted ? 1 : 0;
    co_return c;
  }
  std::optional<SqsReceiveOptions> receive_options() const override { return receive; }
};

/// The object arrives after 2.5 s, so the message is still in work when an extension is due.
class SlowStore final : public ObjectStore {
 public:
  asio::awaitable<result<void>> async_fetch(ObjectRef, ObjectChunkHandler on_chunk, Diagnostics&) override {
    asio::steady_timer t(co_await asio::this_coro::executor, 2500ms);
    co_await t.async_wait(asio::use_awaitable);
    const std::string data = test::gzip(
        R"({"Records":[{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"Get","eventID":"e0"}]})");
    auto r = co_await on_chunk(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()));
    if (!r) co_return r.error();
    co_return result<void>{};
  }
};

/// The object at once, from memory.
class MemoryStore final : public ObjectStore {
 public:
  int fetches = 0;
  asio::awaitable<result<void>> async_fetch(ObjectRef, ObjectChunkHandler on_chunk, Diagnostics&) override {
    ++fetches;
    const std::string data = test::gzip(
        R"({"Records":[{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"Get","eventID":"e0"}]})");
    auto r = co_await on_chunk(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()));
    if (!r) co_return r.error();
    co_return result<void>{};
  }
};

/// Keeps the tags of what a flush acknowledged.
class TagSink final : public Sink {
 public:
  std::vector<std::string> delivered, pending;
  result<void> write(const Event& e, Diagnostics&) override {
    pending.push_back(e.tag);
    return {};
  }
  result<void> flush(Diagnostics&) override {
    for (auto& t : pending) delivered.push_back(std::move(t));
    pending.clear();
    return {};
  }
};

class NullSink final : public Sink {
 public:
  result<void> write(const Event&, Diagnostics&) override { return {}; }
  result<void> flush(Diagnostics&) override { return {}; }
};

std::vector<std::chrono::seconds> drain(OneMessageQueue& queue, std::optional<SqsReceiveOptions> own) {
  asio::io_context ioc;
  SlowStore store;
  NullSink sink;
  Metrics metrics;
  CollectorOptions o;
  o.receive = own;
  o.drain_empty_polls = 2;
  o.concurrency.receives_in_flight = 1;
  o.heartbeat.enabled = false;
  o.log = [](std::string_view) {};
  Collector c(ioc.get_executor(), queue, store, sink, test::cloudtrail_decoders(), o, metrics);
  bool done = false;
  CollectorResult res;
  asio::co_spawn(ioc, [](Collector* col, CollectorResult* out, bool* d) -> asio::awaitable<void> {
    *out = co_await col->async_run();
    *d = true;
  }(&c, &res, &done), asio::detached);
  ioc.run_for(20s);
  REQUIRE(done);
  CHECK(res.clean());
  CHECK(queue.deleted);
  return queue.extensions;
}

}  // namespace

TEST_CASE("collector settings: the Collector extends messages by the queue's visibility timeout",
          "[collector][settings]") {
  OneMessageQueue queue;
  queue.receive = SqsReceiveOptions{.visibility_timeout = 7s, .visibility_extension_interval = 1s};
  const auto ext = drain(queue, std::nullopt);
  REQUIRE_FALSE(ext.empty());
  for (auto e : ext) CHECK(e == 7s);
}

TEST_CASE("collector settings: CollectorOptions::receive, when set, wins over the queue's", "[collector][settings]") {
  OneMessageQueue queue;
  queue.receive = SqsReceiveOptions{.visibility_timeout = 7s, .visibility_extension_interval = 1s};
  const auto ext = drain(queue, SqsReceiveOptions{.visibility_timeout = 9s, .visibility_extension_interval = 1s});
  REQUIRE_FALSE(ext.empty());
  for (auto e : ext) CHECK(e == 9s);
}

TEST_CASE("collector settings: for_queue is the file's defaults plus the queue and the service's own settings",
          "[config][settings]") {
  auto c = CollectorConfig::for_queue("https://sqs.eu-west-1.amazonaws.com/123456789012/trail");
  CHECK(c.aws.region == "eu-west-1");
  CHECK(c.queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/trail");
  REQUIRE(c.services.size() == 1);
  CHECK(c.services[0].name == "aws_sqs_cloudtrail");
  CHECK(c.services[0].routing_template ==
        ServiceHandlerRegistry::builtin().find("aws_sqs_cloudtrail")->default_routing_template());
  CHECK_FALSE(c.heartbeat.enabled);
  CHECK(c.concurrency.messages_in_flight == ConcurrencyOptions{}.messages_in_flight);
  CHECK(c.sqs.visibility_timeout == SqsReceiveOptions{}.visibility_timeout);
  Diagnostics d;
  CHECK(validate(c, d));
  // An alias resolves to its handler; an unknown service is reported naming it.
  auto gd = CollectorConfig::for_queue("https://sqs.eu-west-1.amazonaws.com/123456789012/trail", "aws_sqs_guard_duty");
  CHECK(validate(gd, d));
  auto bad = CollectorConfig::for_queue("https://sqs.eu-west-1.amazonaws.com/123456789012/trail", "aws_sqs_nothing");
  CHECK_FALSE(validate(bad, d));
  CHECK(d.message.find("aws_sqs_nothing") != std::string::npos);
  // A URL naming no region: validation asks for one.
  auto local = CollectorConfig::for_queue("http://127.0.0.1:4566/000000000000/q");
  CHECK(local.aws.region.empty());
  CHECK_FALSE(validate(local, d));
  CHECK(d.message.find("region") != std::string::npos);
}

// Issue 18, item 2: an embedder's own queue and store go through build_collector, with no
// Devo template, no SQS and no S3: the store is the one the collector fetches from.
TEST_CASE("build_collector: the embedder's queue and store (AssemblyOptions::queue_factory, store_factory)",
          "[collector][settings]") {
  auto cfg = CollectorConfig::for_queue("https://sqs.us-east-1.amazonaws.com/000000000000/q");
  asio::io_context ioc;
  OneMessageQueue* queue = nullptr;
  MemoryStore* store = nullptr;
  TagSink mine;
  AssemblyOptions opts;
  opts.drain = true;
  opts.extra_sinks.push_back(&mine);
  opts.credentials_provider =
      std::make_shared<StaticCredentialsProvider>(Credentials{.access_key_id = "k", .secret_access_key = "s"});
  opts.log = [](std::string_view) {};
  opts.queue_factory = [&queue](AwsClient&) {
    auto q = std::make_unique<OneMessageQueue>();
    queue = q.get();
    return std::unique_ptr<MessageQueue>(std::move(q));
  };
  opts.store_factory = [&store](AwsClient&) {
    auto s = std::make_unique<MemoryStore>();
    store = s.get();
    return std::unique_ptr<ObjectStore>(std::move(s));
  };
  Diagnostics diag;
  auto built = build_collector(cfg, ioc.get_executor(), opts, diag);
  REQUIRE(built.has_value());
  REQUIRE(store != nullptr);
  bool done = false;
  CollectorResult res;
  asio::co_spawn(ioc, [](AssembledCollector* c, CollectorResult* out, bool* d) -> asio::awaitable<void> {
    *out = co_await c->async_run();
    *d = true;
  }(built->get(), &res, &done), asio::detached);
  ioc.run_for(20s);
  REQUIRE(done);
  CHECK(res.clean());
  CHECK(store->fetches == 1);
  CHECK(queue->deleted);
  CHECK(mine.delivered == std::vector<std::string>{"cloud.aws.cloudtrail.iam"});

  // A factory that returns nothing is refused, naming it.
  AssemblyOptions no_store = opts;
  no_store.store_factory = [](AwsClient&) { return std::unique_ptr<ObjectStore>(); };
  Diagnostics refused;
  CHECK_FALSE(build_collector(cfg, ioc.get_executor(), no_store, refused).has_value());
  CHECK(refused.message == "AssemblyOptions::store_factory returned no store");
}

// Issue 18: the Collector's fallible construction returns the error instead of running with
// settings it cannot use.
TEST_CASE("Collector::create refuses unusable options, naming the setting", "[collector][settings]") {
  asio::io_context ioc;
  OneMessageQueue queue;
  MemoryStore store;
  NullSink sink;
  Metrics metrics;
  auto bad = [&](auto change) {
    CollectorOptions o;
    o.log = [](std::string_view) {};
    change(o);
    Diagnostics diag;
    auto c = Collector::create(ioc.get_executor(), queue, store, sink, test::cloudtrail_decoders(), o, metrics, diag);
    CHECK_FALSE(c.has_value());
    if (!c) CHECK(c.error() == make_error_code(client_errc::invalid_argument));
    return diag.message;
  };
  CHECK(bad([](CollectorOptions& o) { o.concurrency.messages_in_flight = 0; }) ==
        "messages_in_flight: must be at least 1");
  CHECK(bad([](CollectorOptions& o) { o.receive = SqsReceiveOptions{.max_messages = 11}; }) ==
        "max_messages: must be 1..10");
  CHECK(bad([](CollectorOptions& o) { o.heartbeat.tag.clear(); }) == "heartbeat.tag: must not be empty");
  Diagnostics diag;
  CollectorOptions o;
  CHECK_FALSE(Collector::create(ioc.get_executor(), queue, store, sink, PayloadDecoderFactory{}, o, metrics, diag));
  CHECK(diag.message == "decoders: the decoder factory is empty");
  auto good = Collector::create(ioc.get_executor(), queue, store, sink, test::cloudtrail_decoders(), o, metrics, diag);
  CHECK(good.has_value());
}

// The collector's devo lines to stdout or a directory carry the time they were written, as the
// Devo sinks' do: before, every line carried the time the output was built.
TEST_CASE("build_collector: devo lines in a directory output carry the time of writing, not of start-up",
          "[collector][settings]") {
  const auto dir = std::filesystem::path(CTSQS_BINARY_DIR) / "test-tmp" / "devo_time";
  std::filesystem::remove_all(dir);
  auto cfg = CollectorConfig::for_queue("https://sqs.us-east-1.amazonaws.com/000000000000/q");
  cfg.outputs.directory = DirectoryOutputConfig{dir, OutputFormat::devo};
  asio::io_context ioc;
  AssemblyOptions opts;
  opts.drain = true;
  opts.hostname = "h";
  opts.credentials_provider =
      std::make_shared<StaticCredentialsProvider>(Credentials{.access_key_id = "k", .secret_access_key = "s"});
  opts.log = [](std::string_view) {};
  opts.queue_factory = [](AwsClient&) { return std::unique_ptr<MessageQueue>(std::make_unique<OneMessageQueue>()); };
  opts.store_factory = [](AwsClient&) { return std::unique_ptr<ObjectStore>(std::make_unique<MemoryStore>()); };
  // The devo time stamp of `t` as the sinks write it: "Mmm dd HH:MM:SS".
  auto stamp = [](std::chrono::system_clock::time_point t) {
    std::string line;
    append_line(line, Event{}, OutputFormat::devo, LineOptions{"h", 14, t});
    return line.substr(line.find('>') + 1, 15);
  };
  const std::string before = stamp(std::chrono::system_clock::now());
  Diagnostics diag;
  auto built = build_collector(cfg, ioc.get_executor(), opts, diag);
  REQUIRE(built.has_value());
  const std::string after = stamp(std::chrono::system_clock::now());
  std::this_thread::sleep_for(1200ms);  // the lines are written a second or more after start-up
  bool done = false;
  asio::co_spawn(ioc, [](AssembledCollector* c, bool* d) -> asio::awaitable<void> {
    co_await c->async_run();
    *d = true;
  }(built->get(), &done), asio::detached);
  ioc.run_for(20s);
  REQUIRE(done);
  std::ifstream in(dir / "cloud.aws.cloudtrail.iam.log");
  std::string line;
  REQUIRE(std::getline(in, line));
  const std::string written = line.substr(line.find('>') + 1, 15);
  INFO(line);
  CHECK(written != before);
  CHECK(written != after);
  std::filesystem::remove_all(dir);
}
