// The integration harness itself: Peers starts/stops real peers, the gate control API, seed.mjs.
#include "peers.hpp"

#include "blocking_http.hpp"
#include "catch.hpp"

#include <boost/json/parse.hpp>

#include <filesystem>

using ctsqs::test::Peers;
using ctsqs::test::PeersOptions;
using ctsqs::test::http_call;

TEST_CASE("Peers starts the peers on private ports and stops exactly them", "[integration][peers]") {
  std::filesystem::path run_dir;
  unsigned short gate = 0, fauxqs = 0;
  {
    Peers peers;
    run_dir = peers.run_dir();
    gate = peers.gate_port();
    fauxqs = peers.fauxqs_port();
    CHECK(gate != 4600);
    CHECK(fauxqs != 4566);
    CHECK(http_call("GET", fauxqs, "/health").status == 200);
    CHECK(http_call("GET", gate, "/__gate/health").status == 200);
    CHECK(std::filesystem::exists(run_dir / "peers.pids"));
  }
  CHECK_FALSE(std::filesystem::exists(run_dir));
  CHECK_THROWS(http_call("GET", gate, "/__gate/health"));
  CHECK_THROWS(http_call("GET", fauxqs, "/health"));
}

TEST_CASE("gate faults are injected and counted", "[integration][peers]") {
  Peers peers({.peers = "fauxqs gate", .env = {{"GATE_ALLOW_UNSIGNED", "sqs"}}});
  peers.gate_add_faults(
      R"([{"service":"sqs","action":"ListQueues","status":503,"code":"ServiceUnavailable","times":1}])");
  auto list = [&] {
    ctsqs::HttpRequest req;
    req.method = "POST";
    req.scheme = "http";
    req.host = Peers::host(peers.gate_port());
    req.headers = {{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", "AmazonSQS.ListQueues"}};
    req.body = "{}";
    return ctsqs::test::http_exchange(req);
  };
  auto first = list();
  CHECK(first.status == 503);
  auto second = list();
  CHECK(second.status == 200);
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("faultsInjected").as_int64() == 1);
  peers.gate_reset();
  stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("requests").as_int64() == 0);
}

TEST_CASE("seed.mjs creates the three delivery routes and their notifications", "[integration][peers]") {
  Peers peers;
  auto seeded = peers.seed({"--files", "2", "--records", "3", "--drop-test-events"});
  INFO(seeded.log);
  REQUIRE(seeded.exit_code == 0);
  auto summary = boost::json::parse(seeded.summary).as_object();
  CHECK(summary.at("notification_mode").as_string() == "s3");
  CHECK(summary.at("objects").as_array().size() == 2);
  const auto& queues = summary.at("queues").as_object();
  for (const char* q : {"ct-s3-events", "ct-sns-events", "ct-native-events"})
    CHECK(queues.at(q).at("messages").as_int64() == 2);
  CHECK(queues.at("ct-dlq").at("messages").as_int64() == 0);
}

TEST_CASE("seed.mjs uploads given files under their AWSLogs or firehose keys, gzipping plain JSON",
          "[integration][peers]") {
  Peers peers;
  const auto logs = std::filesystem::path(CTSQS_SOURCE_DIR) / "examples" / "logs";
  if (!std::filesystem::is_directory(logs)) {
    WARN("examples/logs absent: skipped");
    return;
  }
  std::size_t files = 0, cloudtrail = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(logs)) {
    if (!e.is_regular_file() || (e.path().extension() != ".json" && e.path().extension() != ".gz")) continue;
    ++files;
    const std::string name = e.path().filename().string();
    if (name.ends_with(".json") || name.ends_with(".json.gz")) ++cloudtrail;
  }
  auto seeded = peers.seed({"--routes", "s3,native", "--drop-test-events", logs.string()});
  INFO(seeded.log);
  REQUIRE(seeded.exit_code == 0);
  auto summary = boost::json::parse(seeded.summary).as_object();
  const auto& objects = summary.at("objects").as_array();
  CHECK(objects.size() == files);
  for (const auto& o : objects) {
    std::string key(o.at("key").as_string());
    INFO(key);
    CHECK((key.starts_with("AWSLogs/") || key.starts_with("firehose/")));
    CHECK(key.ends_with(".gz"));
    // The same path exists below examples/logs (with or without .gz).
    auto rel = key.substr(0, key.size() - 3);
    CHECK((std::filesystem::exists(logs / key) || std::filesystem::exists(logs / rel)));
  }
  const auto& queues = summary.at("queues").as_object();
  // The S3 notification's default rules (prefix AWSLogs/, suffix .json.gz) pass the CloudTrail
  // files only; CloudTrail's own notification is sent for every file.
  CHECK(queues.at("ct-s3-events").at("messages").as_int64() == static_cast<std::int64_t>(cloudtrail));
  CHECK(queues.at("ct-native-events").at("messages").as_int64() == static_cast<std::int64_t>(files));
  CHECK_FALSE(queues.contains("ct-sns-events"));
}
