// Integration: `ctsqs drain` against the real peers through the SigV4 gate (cross-account role
// assumed through the gate's STS with an external id): the three delivery routes drain
// completely, and injected faults on every operation still end with every record delivered.
#include "collector_helpers.hpp"

#include "catch.hpp"

using namespace ctsqs::test;

namespace {

const std::string kExternalId = "ext-it-4711";

struct Drained {
  int exit_code = -1;
  Delivered delivered;
  std::string log;
};

Drained drain_queue(const Peers& peers, const TempDir& tmp, const std::string& queue,
                    const std::vector<std::string>& extra = {}, const std::string& ctsqs_extra = "") {
  const auto cfg = tmp.path / (queue + ".json");
  write_text(cfg, collector_config(peers, queue, kExternalId, ctsqs_extra));
  const auto out = tmp.path / ("out-" + queue);
  Drained d;
  d.exit_code = run_drain(cfg, out, tmp.path, extra, "drain-" + queue);
  d.log = read_file(tmp.path / ("drain-" + queue + ".err"));
  read_delivered(out, d.delivered);
  return d;
}

}  // namespace

TEST_CASE("collector: S3->SQS and S3->SNS->SQS and CloudTrail SNS routes drain completely through the gate",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  const auto seeded = seed_or_throw(peers, {"--files", "6", "--records", "40"});
  REQUIRE(seeded.objects == 6);
  REQUIRE(seeded.records == 240);
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 240);
  TempDir tmp;

  for (std::string queue : {"ct-s3-events", "ct-sns-events", "ct-native-events"}) {
    INFO("queue " << queue);
    auto d = drain_queue(peers, tmp, queue);
    INFO(d.log);
    CHECK(d.exit_code == 0);
    // Every record exactly once (no faults: no redelivery either), with its service tag.
    CHECK(d.delivered.by_event_id.size() == ids.size());
    CHECK(d.delivered.duplicates() == 0);
    for (auto& [id, n] : d.delivered.by_event_id) CHECK(ids.count(id) == 1);
    std::uint64_t tagged = 0;
    for (auto& [tag, n] : d.delivered.by_tag) {
      CHECK((tag == "cloud.aws.cloudtrail.s3" || tag == "cloud.aws.cloudtrail.iam" ||
             tag == "cloud.aws.cloudtrail.signin"));
      tagged += n;
    }
    CHECK(tagged == 240);
    // The queue is empty afterwards: nothing waiting, nothing in flight.
    CHECK(queue_depth(peers, queue) == std::pair<long, long>{0, 0});
  }
  CHECK(queue_depth(peers, "ct-dlq") == std::pair<long, long>{0, 0});
  // The role was assumed through the gate's STS, and every request passed SigV4 verification.
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("sts").as_int64() >= 1);
  CHECK(stats.at("rejected").as_int64() == 0);
}

TEST_CASE("collector: a wrong external id is a clear error and deletes nothing", "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  seed_or_throw(peers, {"--files", "2", "--records", "5", "--routes", "s3", "--drop-test-events"});
  TempDir tmp;
  const auto cfg = tmp.path / "bad.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", "not-the-id"));
  // AssumeRole is refused: the drain gives up at once with a configuration error (exit 2).
  Child c({ctsqs_exe().string(), "drain", "--config", cfg.string(), "--output", (tmp.path / "out").string()},
          tmp.path / "bad.out", tmp.path / "bad.err");
  CHECK(c.wait(std::chrono::seconds(60)) == 2);
  const auto err = read_file(tmp.path / "bad.err");
  INFO(err);
  CHECK(err.find("AccessDenied") != std::string::npos);
  CHECK(queue_depth(peers, "ct-s3-events").first + queue_depth(peers, "ct-s3-events").second == 2);
}

TEST_CASE("collector: injected 5xx, throttling, resets and delays on every operation still deliver every record",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  const auto seeded = seed_or_throw(peers, {"--files", "8", "--records", "25", "--routes", "s3"});
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 200);
  peers.gate_add_faults(R"([
    {"service":"sqs","action":"ReceiveMessage","status":503,"code":"ServiceUnavailable","every":3},
    {"service":"sqs","action":"ReceiveMessage","reset":true,"every":7},
    {"service":"sqs","action":"DeleteMessageBatch","status":400,"code":"ThrottlingException","every":2},
    {"service":"sqs","action":"DeleteMessageBatch","reset":true,"every":5},
    {"service":"sqs","action":"ChangeMessageVisibilityBatch","status":500,"code":"InternalError","every":2},
    {"service":"s3","status":503,"code":"SlowDown","every":3},
    {"service":"s3","status":500,"code":"InternalError","every":5},
    {"service":"s3","reset":true,"every":4},
    {"service":"s3","delayMs":400,"every":2},
    {"service":"sqs","delayMs":300,"every":4},
    {"service":"sts","status":503,"code":"ServiceUnavailable","times":1}
  ])");
  TempDir tmp;
  auto d = drain_queue(peers, tmp, "ct-s3-events", {"--retry-backoff", "1", "--empty-polls", "4"});
  INFO(d.log);
  CHECK(d.exit_code == 0);
  // Every record delivered (duplicates are allowed after failures, losses are not).
  CHECK(d.delivered.by_event_id.size() == ids.size());
  for (auto& id : ids) CHECK(d.delivered.by_event_id.count(id) == 1);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("faultsInjected").as_int64() >= 10);
}

TEST_CASE("collector: EventBridge API-call events are delivered without any S3 fetch, with heartbeats",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  create_queue(peers, "ct-eventbridge");
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "eb-event-" + std::to_string(i);
    ids.insert(id);
    const std::string source = i % 2 ? "iam" : "s3";
    send_message(peers, "ct-eventbridge",
                 R"({"version":"0","id":"11111111-2222-3333-4444-00000000000)" + std::to_string(i) +
                     R"(","detail-type":"AWS API Call via CloudTrail","source":"aws.)" + source +
                     R"(","account":"123456789012","time":"2026-11-28T10:00:00Z","region":"us-east-1","resources":[],)"
                     R"("detail":{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"alice"},)"
                     R"("eventTime":"2026-11-28T10:00:00Z","eventSource":")" + source +
                     R"(.amazonaws.com","eventName":"Describe","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1",)"
                     R"("eventID":")" + id + R"(","eventType":"AwsApiCall","recipientAccountId":"123456789012"}})");
  }
  TempDir tmp;
  // A heartbeat every second while it drains: `collector_id` and counts under its own tag.
  auto d = drain_queue(peers, tmp, "ct-eventbridge", {"--empty-polls", "3"},
                       R"("heartbeat":{"enabled":true,"interval":"1s","tag":"my.app.ctsqs.it"})");
  INFO(d.log);
  CHECK(d.exit_code == 0);
  CHECK(d.delivered.by_event_id.size() == 5);
  for (auto& id : ids) CHECK(d.delivered.by_event_id.count(id) == 1);
  CHECK(d.delivered.by_tag["cloud.aws.cloudtrail.s3"] == 3);
  CHECK(d.delivered.by_tag["cloud.aws.cloudtrail.iam"] == 2);
  CHECK(queue_depth(peers, "ct-eventbridge") == std::pair<long, long>{0, 0});
  // Heartbeat events went to the sink under their own tag.
  CHECK(d.delivered.by_tag["my.app.ctsqs.it"] >= 1);
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  auto& by_action = stats.at("byAction").as_object();
  // The gate saw the drain's SQS calls (so it counted), and no S3 fetch among them.
  bool saw_receive = false;
  for (auto& [k, v] : by_action) {
    saw_receive = saw_receive || std::string(k).find("ReceiveMessage") != std::string::npos;
    CHECK(std::string(k).find("GetObject") == std::string::npos);
  }
  INFO(boost::json::serialize(by_action));
  CHECK(saw_receive);
}
