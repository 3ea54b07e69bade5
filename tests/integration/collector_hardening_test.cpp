// Integration: `ctsqs drain` through the gate against faults after the emulator acted (the gate's
// `lose`, `cutAfterBytes`, `dropRange`), outages, pinned objects and allow-lists: a drain exits 0
// only when the queue is empty with nothing in flight, an outage deletes nothing, no byte is fed
// twice, and a refused message is named and never delivered.
#include "collector_helpers.hpp"

#include "catch.hpp"

using namespace ctsqs::test;

namespace {

const std::string kExternalId = "ext-it-lost";

struct Drained {
  int exit_code = -1;
  Delivered delivered;
  std::string log;
};

Drained drain_queue(const Peers& peers, const TempDir& tmp, const std::string& queue, const std::string& name,
                    const std::vector<std::string>& extra = {}, const std::string& ctsqs_extra = "") {
  const auto cfg = tmp.path / (name + ".json");
  write_text(cfg, collector_config(peers, queue, kExternalId, ctsqs_extra));
  const auto out = tmp.path / ("out-" + name);
  Drained d;
  d.exit_code = run_drain(cfg, out, tmp.path, extra, name);
  d.log = read_file(tmp.path / (name + ".err"));
  read_delivered(out, d.delivered);
  return d;
}

}  // namespace

TEST_CASE("collector: a lost ReceiveMessage answer is waited for, delivered, and only then the drain exits 0",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  const auto seeded = seed_or_throw(peers, {"--files", "4", "--records", "10", "--routes", "s3", "--drop-test-events"});
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 40);
  // SQS hands the messages out, the answer never arrives: they stay in flight for the
  // visibility timeout (30 s in this config) while the next polls come back empty.
  peers.gate_add_faults(R"([{"service":"sqs","action":"ReceiveMessage","lose":true,"times":1}])");
  TempDir tmp;
  const auto d = drain_queue(peers, tmp, "ct-s3-events", "lost", {"--max-messages", "10", "--messages-in-flight", "10"});
  INFO(d.log);
  CHECK(d.exit_code == 0);
  CHECK(d.log.find("in flight") != std::string::npos);
  CHECK(d.delivered.by_event_id.size() == ids.size());
  for (auto& id : ids) CHECK(d.delivered.by_event_id.count(id) == 1);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("faultsInjected").as_int64() == 1);
}

TEST_CASE("collector: a drain that ends with messages still in flight elsewhere exits 1 saying so",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  create_queue(peers, "ct-held");
  send_message(peers, "ct-held", R"({"Event":"s3:TestEvent","Service":"Amazon S3"})");
  // Another consumer holds the message for longer than the drain waits (visibility 30 s + 5 s).
  auto got = fauxqs_call(peers, "ReceiveMessage",
                         {{"QueueUrl", fauxqs_queue_url(peers, "ct-held")}, {"VisibilityTimeout", 300}}, "ct-held");
  REQUIRE(got.at("Messages").as_array().size() == 1);
  TempDir tmp;
  const auto started = std::chrono::steady_clock::now();
  const auto d = drain_queue(peers, tmp, "ct-held", "held");
  INFO(d.log);
  CHECK(d.exit_code == 1);
  CHECK(d.log.find("is not drained: the queue still reports 0 visible, 1 in flight, 0 delayed") != std::string::npos);
  CHECK(d.log.find("ctsqs drain: " + peers.gate_endpoint() + "/000000000000/ct-held is not drained") !=
        std::string::npos);  // the queue is named
  // It waited out the visibility timeout before giving up, and not much longer.
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took >= std::chrono::seconds(30));
  CHECK(took < std::chrono::seconds(90));
  CHECK(queue_depth(peers, "ct-held") == std::pair<long, long>{0, 1});
}

TEST_CASE("collector: an outage longer than delete_after_receives receives deletes nothing and ends delivered",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  // A redrive policy that leaves the messages in the queue for the whole outage.
  const auto seeded = seed_or_throw(
      peers, {"--files", "2", "--records", "10", "--routes", "s3", "--drop-test-events", "--max-receive-count", "20"});
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 20);
  // S3 refuses every signature for the first 8 GetObjects: each message is received 4 times or
  // more before its object can be read; the policy would delete it on its 2nd receive.
  peers.gate_add_faults(
      R"([{"service":"s3","status":403,"code":"SignatureDoesNotMatch","message":"outage","times":8}])");
  TempDir tmp;
  const auto d = drain_queue(peers, tmp, "ct-s3-events", "outage", {"--retry-backoff", "1", "--empty-polls", "3"},
                             R"("on_permanent_error":{"delete_after_receives":2})");
  INFO(d.log);
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("faultsInjected").as_int64() == 8);
  CHECK(d.exit_code == 0);
  CHECK(d.log.find("not of the message") != std::string::npos);
  CHECK(d.log.find("pausing receives") != std::string::npos);
  CHECK(d.delivered.by_event_id.size() == ids.size());
  for (auto& id : ids) CHECK(d.delivered.by_event_id.count(id) >= 1);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("collector: a GetObject cut mid-body whose resume comes back whole (Range ignored) delivers each event once",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  const auto seeded =
      seed_or_throw(peers, {"--files", "1", "--records", "3000", "--routes", "s3", "--drop-test-events"});
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 3000);
  // The first GetObject stops after 100000 body bytes (more than the 64 KiB the client hands on
  // at once, so the decoder has a prefix); its resume reaches s3rver without Range and If-Match,
  // so the whole object comes back with 200.
  peers.gate_add_faults(
      R"([{"service":"s3","cutAfterBytes":100000,"times":1},{"service":"s3","dropRange":true,"times":1}])");
  TempDir tmp;
  const auto d = drain_queue(peers, tmp, "ct-s3-events", "range-ignored");
  INFO(d.log);
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("faultsInjected").as_int64() == 2);
  CHECK(d.exit_code == 0);
  CHECK(d.log.find("objects:  1 fetched, 0 skipped, 0 failed") != std::string::npos);  // at the first try
  CHECK(d.delivered.by_event_id.size() == ids.size());
  CHECK(d.delivered.duplicates() == 0);
  CHECK(d.delivered.lines == ids.size());
  for (auto& id : ids) CHECK(d.delivered.by_event_id.count(id) == 1);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
}

TEST_CASE("collector: GetObject pinned with the notification's versionId and ETag passes the gate and s3rver",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  const auto seeded = seed_or_throw(peers, {"--files", "1", "--records", "5", "--routes", "s3", "--drop-test-events"});
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 5);
  // The same object announced again, as a versioned bucket would: with a versionId.
  auto msg = fauxqs_call(peers, "ReceiveMessage", {{"QueueUrl", fauxqs_queue_url(peers, "ct-s3-events")}}, "ct-s3-events");
  REQUIRE(msg.at("Messages").as_array().size() == 1);
  auto body = boost::json::parse(msg.at("Messages").as_array()[0].as_object().at("Body").as_string()).as_object();
  auto& object = body.at("Records").as_array()[0].as_object().at("s3").as_object().at("object").as_object();
  REQUIRE(object.contains("eTag"));
  object["versionId"] = "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY";
  create_queue(peers, "ct-versioned");
  send_message(peers, "ct-versioned", boost::json::serialize(body));
  TempDir tmp;
  const auto d = drain_queue(peers, tmp, "ct-versioned", "versioned");
  INFO(d.log);
  CHECK(d.exit_code == 0);
  CHECK(d.delivered.by_event_id.size() == ids.size());
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("rejected").as_int64() == 0);
}

TEST_CASE("collector: a message for a bucket outside allowed_buckets is refused by name and never read",
          "[integration][collector]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  seed_or_throw(peers, {"--files", "2", "--records", "5", "--routes", "s3", "--drop-test-events"});
  TempDir tmp;
  const auto d = drain_queue(peers, tmp, "ct-s3-events", "refused", {"--retry-backoff", "1"},
                             R"("allowed_buckets":["only-this-bucket"])");
  INFO(d.log);
  CHECK(d.exit_code == 1);
  CHECK(d.delivered.lines == 0);
  // Each message is named with what was refused; none was deleted, no object was read.
  std::size_t named = 0;
  for (auto at = d.log.find("permanent failure: refused: bucket \"cloudtrail-logs\" is not in allowed_buckets");
       at != std::string::npos; at = d.log.find("refused: bucket", at + 1))
    ++named;
  CHECK(named >= 2);  // each receive of each message (the redrive policy moves them after 3)
  CHECK(d.log.find("ctsqs: message ") != std::string::npos);
  // A permanent failure under on_permanent_error "leave": into the dead-letter queue, not deleted.
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  CHECK(queue_depth(peers, "ct-dlq") == std::pair<long, long>{2, 0});
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK_FALSE(stats.at("byAction").as_object().contains("GetObject"));
}
