// Integration: at-least-once under process death and poison input, and scaling out with several
// `ctsqs run` processes on one queue (real peers, through the SigV4 gate).
#include "collector_helpers.hpp"

#include "catch.hpp"

using namespace ctsqs::test;
using namespace std::chrono_literals;

namespace {

const std::string kExternalId = "ext-res-77";

PeersOptions peers_options() { return {.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}}; }

}  // namespace

TEST_CASE("collector: kill -9 in the middle of a drain, then a second drain, loses no record",
          "[integration][collector]") {
  Peers peers(peers_options());
  const auto seeded = seed_or_throw(peers, {"--files", "24", "--records", "50", "--routes", "s3", "--drop-test-events"});
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 1200);
  // Slow the S3 side down so the first drain is still busy when it is killed.
  peers.gate_add_faults(R"([{"service":"s3","delayMs":700}])");
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  // A short visibility timeout so what the killed process held comes back quickly.
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId,
                                   R"("concurrency":{"messages_in_flight":10,"objects_in_flight":2})"));
  {
    std::string cfg_text = read_file(cfg);
    const auto pos = cfg_text.find(R"("visibility_timeout":"30s","visibility_extension_interval":"10s")");
    REQUIRE(pos != std::string::npos);
    cfg_text.replace(pos, std::string(R"("visibility_timeout":"30s","visibility_extension_interval":"10s")").size(),
                     R"("visibility_timeout":"4s","visibility_extension_interval":"1s")");
    write_text(cfg, cfg_text);
  }
  const auto out1 = tmp.path / "out1";
  {
    Child first({ctsqs_exe().string(), "drain", "--config", cfg.string(), "--output", out1.string(), "--format",
                 "raw", "--progress", "1"},
                tmp.path / "first.out", tmp.path / "first.err");
    // Wait until it delivered something, then kill it without warning.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      Delivered d;
      read_delivered(out1, d);
      if (d.by_event_id.size() >= 200) break;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(100ms);
    }
    first.signal(SIGKILL);
    CHECK(first.wait(30s) == 128 + SIGKILL);
  }
  Delivered d1;
  read_delivered(out1, d1);
  INFO("first drain delivered " << d1.by_event_id.size() << " records before kill -9");
  CHECK(d1.by_event_id.size() < ids.size());  // it really was killed in the middle

  peers.gate_clear_faults();
  const auto out2 = tmp.path / "out2";
  const int rc = run_drain(cfg, out2, tmp.path, {"--empty-polls", "6"}, "second");
  INFO(read_file(tmp.path / "second.err"));
  CHECK(rc == 0);
  Delivered all;
  read_delivered(out1, all);
  read_delivered(out2, all);
  // Nothing lost.
  for (auto& id : ids) CHECK(all.by_event_id.count(id) == 1);
  CHECK(all.by_event_id.size() == ids.size());
  // Duplicates only for what was in flight: at most messages_in_flight (10) files of 50 records.
  CHECK(all.duplicates() <= 10 * 50);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("collector: poison messages end in the dead-letter queue, good ones are delivered",
          "[integration][collector]") {
  Peers peers(peers_options());
  TempDir tmp;
  // A corrupt "CloudTrail file" (gzip magic, garbage after) announced by a real S3 notification.
  std::string corrupt = "\x1f\x8b\x08\x00garbage, not deflate data at all";
  fs::create_directories(tmp.path / "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28");
  const auto bad = tmp.path / "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/123456789012_CloudTrail_us-east-1_20261128T0000Z_corrupt.json.gz";
  write_text(bad, corrupt);
  const auto seeded = seed_or_throw(peers, {"--files", "3", "--records", "10", "--routes", "s3", "--drop-test-events",
                                            "--max-receive-count", "2", bad.string()});
  REQUIRE(seeded.objects == 4);
  // Bodies that are no notification at all.
  send_message(peers, "ct-s3-events", "this is not json");
  send_message(peers, "ct-s3-events", R"({"hello":"world"})");
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId));
  const auto out = tmp.path / "out";
  const int rc = run_drain(cfg, out, tmp.path, {"--retry-backoff", "1", "--empty-polls", "3"});
  const auto log = read_file(tmp.path / "drain.err");
  INFO(log);
  CHECK(rc == 1);  // some input was bad
  Delivered d;
  read_delivered(out, d);
  CHECK(d.by_event_id.size() == 30);
  // The failures are logged with the object / message and the reason.
  CHECK(log.find("corrupt.json.gz") != std::string::npos);
  CHECK(log.find("permanent failure") != std::string::npos);
  CHECK(log.find("unrecognised notification") != std::string::npos);
  // The three poison messages were redriven to the DLQ after 2 receives; the queue is empty.
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  CHECK(queue_depth(peers, "ct-dlq").first == 3);
}

TEST_CASE("collector: poison messages are deleted after N receives when the policy says so",
          "[integration][collector]") {
  Peers peers(peers_options());
  seed_or_throw(peers, {"--files", "1", "--records", "3", "--routes", "s3", "--drop-test-events",
                        "--max-receive-count", "5"});
  send_message(peers, "ct-s3-events", "garbage");
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId,
                                   R"("on_permanent_error":{"delete_after_receives":2})"));
  const int rc = run_drain(cfg, tmp.path / "out", tmp.path, {"--retry-backoff", "1", "--empty-polls", "3"});
  INFO(read_file(tmp.path / "drain.err"));
  CHECK(rc == 1);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  CHECK(queue_depth(peers, "ct-dlq").first == 0);
}

TEST_CASE("collector: three `ctsqs run` processes share one queue and deliver every record",
          "[integration][collector]") {
  Peers peers(peers_options());
  const auto seeded = seed_or_throw(peers, {"--files", "30", "--records", "20", "--routes", "s3", "--drop-test-events"});
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 600);
  peers.gate_add_faults(R"([{"service":"s3","delayMs":150}])");  // so no single process takes it all
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId,
                                   R"("concurrency":{"messages_in_flight":10,"objects_in_flight":2,"receives_in_flight":1})"));
  std::vector<std::unique_ptr<Child>> runs;
  for (int i = 0; i < 3; ++i)
    runs.push_back(std::make_unique<Child>(
        std::vector<std::string>{ctsqs_exe().string(), "run", "--config", cfg.string(), "--output",
                                 (tmp.path / ("out" + std::to_string(i))).string(), "--format", "raw", "--max-messages", "3"},
        tmp.path / ("run" + std::to_string(i) + ".out"), tmp.path / ("run" + std::to_string(i) + ".err")));
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  for (;;) {
    Delivered all;
    for (int i = 0; i < 3; ++i) read_delivered(tmp.path / ("out" + std::to_string(i)), all);
    if (all.by_event_id.size() >= ids.size() && queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0})
      break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(200ms);
  }
  for (auto& r : runs) r->signal(SIGTERM);
  int worked = 0;
  Delivered all;
  for (int i = 0; i < 3; ++i) {
    INFO(read_file(tmp.path / ("run" + std::to_string(i) + ".err")));
    CHECK(runs[static_cast<std::size_t>(i)]->wait(60s) == 0);
    Delivered mine;
    read_delivered(tmp.path / ("out" + std::to_string(i)), mine);
    read_delivered(tmp.path / ("out" + std::to_string(i)), all);
    if (!mine.by_event_id.empty()) ++worked;
  }
  CHECK(worked >= 2);
  for (auto& id : ids) CHECK(all.by_event_id.count(id) == 1);
  CHECK(all.duplicates() == 0);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("collector: ctsqs run at SIGTERM releases what it cannot finish within the grace period",
          "[integration][collector]") {
  Peers peers(peers_options());
  const auto seeded = seed_or_throw(peers, {"--files", "3", "--records", "10", "--routes", "s3", "--drop-test-events"});
  REQUIRE(seeded.objects == 3);
  peers.gate_add_faults(R"([{"service":"s3","delayMs":10000}])");  // fetches outlast the grace period
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId));
  Child run({ctsqs_exe().string(), "run", "--config", cfg.string(), "--output", (tmp.path / "out").string(),
             "--shutdown-grace", "1", "--progress", "0"},
            tmp.path / "run.out", tmp.path / "run.err");
  // Wait until ctsqs holds all three messages: their fetches reached the gate (SQS counting them
  // in flight is not enough: the receive's answer may still be on its way), then stop it.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  auto fetches = [&] {
    auto stats = boost::json::parse(peers.gate_stats()).as_object();
    const auto& by_action = stats.at("byAction").as_object();
    return by_action.contains("s3.GetObject") ? by_action.at("s3.GetObject").as_int64() : std::int64_t{0};
  };
  while (queue_depth(peers, "ct-s3-events").second < 3 || fetches() < 3) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  run.signal(SIGTERM);
  CHECK(run.wait(30s) == 0);
  const auto log = read_file(tmp.path / "run.err");
  INFO(log);
  CHECK(log.find("releasing 3 message(s)") != std::string::npos);
  // Released with visibility 0: visible again at once for another consumer, nothing deleted.
  const auto [visible, in_flight] = queue_depth(peers, "ct-s3-events");
  CHECK(visible == 3);
  CHECK(in_flight == 0);
}

TEST_CASE("collector: ctsqs run at SIGTERM during a long poll ends without waiting for the poll",
          "[integration][collector]") {
  Peers peers(peers_options());
  const auto seeded = seed_or_throw(peers, {"--files", "1", "--records", "5", "--routes", "s3", "--drop-test-events"});
  REQUIRE(seeded.objects == 1);
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId));
  // Long polls of 20 s and a grace period of 1 s: a stop must not wait for the polls to end.
  Child run({ctsqs_exe().string(), "run", "--config", cfg.string(), "--output", (tmp.path / "out").string(),
             "--format", "raw", "--wait-time", "20", "--shutdown-grace", "1", "--progress", "0"},
            tmp.path / "run.out", tmp.path / "run.err");
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    Delivered d;
    read_delivered(tmp.path / "out", d);
    if (d.by_event_id.size() >= 5 && queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0}) break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(1s);  // the receivers now sit in 20 s long polls on an empty queue
  const auto stopped_at = std::chrono::steady_clock::now();
  run.signal(SIGTERM);
  CHECK(run.wait(60s) == 0);
  const auto took = std::chrono::steady_clock::now() - stopped_at;
  INFO(read_file(tmp.path / "run.err"));
  // Without cancelling the polls this takes ~19 s; the margin allows a loaded machine.
  CHECK(took < 10s);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("collector: ctsqs drain stopped by SIGTERM before the queue was emptied does not exit 0",
          "[integration][collector]") {
  // Exit 0 from a drain says the queue is empty. Stopped early (here it could not even receive:
  // STS refuses the role), it must say the queue is not drained and exit 1.
  Peers peers(peers_options());
  seed_or_throw(peers, {"--files", "1", "--records", "5", "--routes", "s3", "--drop-test-events"});
  peers.gate_add_faults(R"([{"service":"sts","status":503,"code":"ServiceUnavailable","times":100000}])");
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId));
  Child drain({ctsqs_exe().string(), "drain", "--config", cfg.string(), "--output", (tmp.path / "out").string(),
               "--format", "raw", "--shutdown-grace", "1", "--progress", "0"},
              tmp.path / "drain.out", tmp.path / "drain.err");
  std::this_thread::sleep_for(1500ms);
  drain.signal(SIGTERM);
  const int rc = drain.wait(60s);
  const auto err = read_file(tmp.path / "drain.err");
  INFO(err);
  CHECK(rc == 1);
  CHECK(err.find("ct-s3-events is not drained: stopped before the queue was confirmed empty") != std::string::npos);
  CHECK(queue_depth(peers, "ct-s3-events").first == 1);
}

TEST_CASE("collector: ctsqs run at SIGTERM while backing off after failed receives ends at once",
          "[integration][collector]") {
  // Nothing listens on the queue's port: every receive fails (connection refused) and the
  // receivers back off 1, 2, 4, 8 s... A stop must not sit out the backoff.
  TempDir tmp;
  const unsigned short port = free_port();
  std::string cfg = read_file(fs::path(CTSQS_SOURCE_DIR) / "examples" / "collector-local.json");
  for (const std::string from : {"127.0.0.1:4566", "127.0.0.1:4568"})
    for (auto at = cfg.find(from); at != std::string::npos; at = cfg.find(from))
      cfg.replace(at, from.size(), "127.0.0.1:" + std::to_string(port));
  write_text(tmp.path / "c.json", cfg);
  Child run({ctsqs_exe().string(), "run", "--config", (tmp.path / "c.json").string(), "--output",
             (tmp.path / "out").string(), "--shutdown-grace", "30", "--progress", "0"},
            tmp.path / "run.out", tmp.path / "run.err");
  // Four failed receives per receiver means the next backoff is 8 s or more.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  auto failures = [&] {
    const auto log = read_file(tmp.path / "run.err");
    std::size_t n = 0;
    for (auto at = log.find("ReceiveMessage failed"); at != std::string::npos; at = log.find("ReceiveMessage failed", at + 1)) ++n;
    return n;
  };
  while (failures() < 8) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  const auto stopped_at = std::chrono::steady_clock::now();
  run.signal(SIGTERM);
  CHECK(run.wait(60s) == 0);
  const auto took = std::chrono::steady_clock::now() - stopped_at;
  INFO(read_file(tmp.path / "run.err"));
  CHECK(took < 4s);  // the backoff under way is at least 8 s
}

TEST_CASE("collector: a drain whose deletes fail says the messages come back and does not exit 0",
          "[integration][collector]") {
  Peers peers(peers_options());
  const auto seeded = seed_or_throw(peers, {"--files", "2", "--records", "5", "--routes", "s3", "--drop-test-events"});
  REQUIRE(seeded.objects == 2);
  // Every delete is refused (not retryable): the events are delivered, the messages stay.
  peers.gate_add_faults(R"([{"service":"sqs","action":"DeleteMessageBatch","status":403,"code":"AccessDenied"}])");
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId));
  const int rc = run_drain(cfg, tmp.path / "out", tmp.path, {"--empty-polls", "1"});
  const auto log = read_file(tmp.path / "drain.err");
  INFO(log);
  Delivered d;
  read_delivered(tmp.path / "out", d);
  CHECK(d.by_event_id.size() == 10);
  CHECK(log.find("will come back") != std::string::npos);
  CHECK(rc == 1);  // not every message was finished: they reappear after their visibility timeout
  const auto [visible, in_flight] = queue_depth(peers, "ct-s3-events");
  CHECK(visible + in_flight == 2);  // nothing deleted
}
