// Integration: several services in one collector file, through the real peers and the SigV4 gate
// (cross-account role with an external id): CloudTrail files, a GuardDuty export and the Firehose
// objects of examples/logs on one queue, through each delivery route, plus GuardDuty findings that
// EventBridge puts on the queue; and a poison object of each format, named and kept, never lost.
#include "collector_helpers.hpp"

#include "catch.hpp"

#include <zlib.h>

using namespace ctsqs::test;

namespace {

const std::string kExternalId = "ext-it-services";

// Every built-in service; the Firehose ones claim their delivery stream's key prefix.
const std::string kServices =
    R"({"aws_sqs_cloudtrail":{},"aws_sqs_guard_duty":{},)"
    R"("aws_sqs_cloudtrail_kinesis":{"claim_key_prefixes":["firehose/cloudtrail/"]},)"
    R"("aws_sqs_guard_duty_kinesis":{"claim_key_prefixes":["firehose/guardduty/"]}})";

std::string services_config(const Peers& peers, const std::string& queue, const std::string& ctsqs_extra = "") {
  std::string cfg = collector_config(peers, queue, kExternalId, ctsqs_extra);
  const std::string one = R"("services":{"aws_sqs_cloudtrail":{}})";
  cfg.replace(cfg.find(one), one.size(), R"("services":)" + kServices);
  return cfg;
}

struct Drained {
  int exit_code = -1;
  Delivered delivered;
  std::string log;
};

Drained drain(const Peers& peers, const TempDir& tmp, const std::string& queue, const std::string& name,
              const std::vector<std::string>& extra = {}) {
  const auto cfg = tmp.path / (name + ".json");
  write_text(cfg, services_config(peers, queue));
  const auto out = tmp.path / ("out-" + name);
  Drained d;
  d.exit_code = run_drain(cfg, out, tmp.path, extra, name);
  d.log = read_file(tmp.path / (name + ".err"));
  read_delivered(out, d.delivered);
  return d;
}

std::uint64_t cloudtrail_events(const Delivered& d) {
  std::uint64_t n = 0;
  for (auto& [id, times] : d.by_event_id) n += static_cast<std::uint64_t>(times);
  return n;
}

std::string gzip_bytes(const std::string& data) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("zlib");
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

const fs::path kLogs = fs::path(CTSQS_SOURCE_DIR) / "examples" / "logs";

}  // namespace

TEST_CASE("services: CloudTrail, GuardDuty and Firehose objects on one queue drain by every route",
          "[integration][collector][services]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  // Every object of examples/logs announced: no prefix rule, any .gz key.
  const auto seeded = seed_or_throw(peers, {"--notify-prefix", "", "--notify-suffix", ".gz", kLogs.string()});
  REQUIRE(seeded.objects == 8);
  // Two GuardDuty findings put on the S3 queue by EventBridge, beside the notifications.
  for (int i = 1; i <= 2; ++i)
    send_message(peers, "ct-s3-events",
                 R"({"version":"0","id":"eb-)" + std::to_string(i) +
                     R"(","detail-type":"GuardDuty Finding","source":"aws.guardduty","account":"111122223333",)"
                     R"("time":"2026-11-28T11:00:00Z","region":"us-east-1","resources":[],"detail":{"schemaVersion":"2.0",)"
                     R"("accountId":"111122223333","region":"us-east-1","id":"eventbridge-finding-)" + std::to_string(i) +
                     R"(","type":"Policy:IAMUser/RootCredentialUsage","severity":2,"resource":{"resourceType":"AccessKey"}}})");
  TempDir tmp;
  for (std::string queue : {"ct-s3-events", "ct-sns-events", "ct-native-events"}) {
    INFO("queue " << queue);
    auto d = drain(peers, tmp, queue, queue);
    INFO(d.log);
    CHECK(d.exit_code == 0);
    // 16 events of the CloudTrail files and 4 of the Firehose-delivered CloudTrail object, each once.
    CHECK(cloudtrail_events(d.delivered) == 20);
    CHECK(d.delivered.by_event_id.size() == 20);
    CHECK(d.delivered.by_tag["cloud.aws.cloudtrail.guardduty"] == 1);  // DeleteDetector, only in the Firehose object
    // 3 exported findings, 2 delivered by Firehose (ids 02 and 03 again: the same findings),
    // and on the S3 queue the 2 EventBridge ones.
    const bool s3_queue = queue == "ct-s3-events";
    CHECK(d.delivered.by_tag["cloud.aws.guardduty.findings"] == (s3_queue ? 7u : 5u));
    CHECK(d.delivered.finding_ids.count("01c2b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8") == 1);
    CHECK(d.delivered.finding_ids.count("eventbridge-finding-2") == (s3_queue ? 1u : 0u));
    // The summary counts per service.
    CHECK(d.log.find("aws_sqs_guard_duty_kinesis: 1 objects, 2 events") != std::string::npos);
    CHECK(d.log.find("aws_sqs_cloudtrail_kinesis: 1 objects, 4 events") != std::string::npos);
    CHECK(queue_depth(peers, queue) == std::pair<long, long>{0, 0});
  }
  CHECK(queue_depth(peers, "ct-dlq") == std::pair<long, long>{0, 0});
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("sts").as_int64() >= 1);
  CHECK(stats.at("rejected").as_int64() == 0);
}

TEST_CASE("services: a poison object of each format is named, kept for the dead-letter queue, the rest delivered",
          "[integration][collector][services]") {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  TempDir tmp;
  const auto poison = tmp.path / "poison";
  auto put = [&](const std::string& rel, const std::string& bytes) {
    fs::create_directories((poison / rel).parent_path());
    write_text(poison / rel, bytes);
  };
  const std::string finding =
      R"({"schemaVersion":"2.0","accountId":"111122223333","region":"us-east-1","id":"poison","type":"Recon:EC2/Portscan"})";
  const std::string export_gz = gzip_bytes(finding + "\n");
  put("AWSLogs/111122223333/GuardDuty/us-east-1/2026/12/03/cut.jsonl.gz", export_gz.substr(0, export_gz.size() - 12));
  put("firehose/cloudtrail/2026/12/03/10/text.gz",
      gzip_bytes(R"({"messageType":"DATA_MESSAGE","owner":"111122223333","logEvents":[{"id":"1","timestamp":1,"message":"not a record"}]})"));
  put("firehose/guardduty/2026/12/03/10/nodetail.gz", gzip_bytes(R"({"version":"0","source":"aws.guardduty"})"));
  put("AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/03/cut.json.gz", gzip_bytes(R"({"Records":[{"eventVersion":"1.08")"));
  put("firehose/other/2026/12/03/10/unknown.gz", gzip_bytes("just a line of text\n"));
  // A good one among them: Firehose with message extraction on writes the records one per line.
  put("firehose/cloudtrail/2026/12/03/10/extracted.gz",
      gzip_bytes(R"({"eventVersion":"1.09","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","eventID":"extracted-1"})"
                 "\n"
                 R"({"eventVersion":"1.09","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"extracted-2"})"
                 "\n"));

  const auto seeded = seed_or_throw(peers, {"--notify-prefix", "", "--notify-suffix", ".gz", "--routes", "s3",
                                            "--drop-test-events", kLogs.string(), poison.string()});
  REQUIRE(seeded.objects == 14);
  auto d = drain(peers, tmp, "ct-s3-events", "poison", {"--retry-backoff", "1"});
  INFO(d.log);
  CHECK(d.exit_code == 1);
  // Every good object delivered in full, nothing from the poison ones (each fails before its first event).
  CHECK(cloudtrail_events(d.delivered) == 22);
  CHECK(d.delivered.by_event_id.count("extracted-2") == 1);
  CHECK(d.delivered.by_tag["cloud.aws.guardduty.findings"] == 5);
  CHECK(d.delivered.finding_ids.count("poison") == 0);
  // Each poison object is named with what was wrong.
  for (const char* what :
       {"cut.jsonl.gz: the object ends inside gzip member 1",
        "text.gz: logEvents index 0 of the CloudWatch Logs message (value index 0): the message is not one record as JSON",
        "nodetail.gz: the EventBridge event (value index 0) has no detail member",
        "CloudTrail/us-east-1/2026/12/03/cut.json.gz: the object ends inside the JSON document",
        "no service claims object firehose/other/2026/12/03/10/unknown.gz by its key or content"}) {
    INFO(what);
    CHECK(d.log.find(what) != std::string::npos);
  }
  // Nothing of theirs was deleted: the redrive policy moved the five messages to the dead-letter queue.
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  CHECK(queue_depth(peers, "ct-dlq") == std::pair<long, long>{5, 0});
}
