// The sans-I/O SQS/S3/notification code against real peers: seeded S3→SQS, S3→SNS→SQS and CloudTrail SNS routes, through the SigV4 gate.
#include "ctsqs/collector/notification.hpp"
#include "ctsqs/aws/s3/protocol.hpp"
#include "ctsqs/aws/sigv4/signer.hpp"
#include "ctsqs/aws/sqs/protocol.hpp"

#include "blocking_http.hpp"
#include "catch.hpp"
#include "ctsqs/collector/collector.hpp"
#include "peers.hpp"

#include <boost/json/parse.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace ctsqs;
using ctsqs::test::Peers;

namespace {

// Requests are signed with the project's signer and sent over plain TCP to the gate, which
// verifies every signature with the AWS SDK for JavaScript's signer before forwarding.
class GateClient {
 public:
  explicit GateClient(const Peers& peers) : peers_(peers) {
    creds_.access_key_id = "test";
    creds_.secret_access_key = "test";
    endpoint_.scheme = "http";
    endpoint_.host = Peers::host(peers.gate_port());
    endpoint_.signing_region = "us-east-1";
  }
  Endpoint endpoint(const char* service) const {
    Endpoint e = endpoint_;
    e.signing_name = service;
    return e;
  }
  HttpResponse send(HttpRequest req, const std::string& service) const {
    sigv4::SigningParams sp;
    sp.region = "us-east-1";
    sp.service = service;
    sp.time = std::chrono::system_clock::now();
    if (service == "s3") {
      sp.normalize_path = false;
      sp.sign_body = true;
    }
    Diagnostics diag;
    auto signed_ok = sigv4::sign(req, creds_, sp, diag);
    INFO(diag.message);
    REQUIRE(signed_ok.has_value());
    return test::http_exchange(req, std::chrono::seconds(40));
  }

 private:
  const Peers& peers_;
  Credentials creds_;
  Endpoint endpoint_;
};

struct Received {
  sqs::Message message;
  Notification notification;
};

// Receives until `want` messages arrived (or a receive comes back empty after the target).
std::vector<Received> receive_all(const GateClient& gate, const std::string& queue_url, std::size_t want) {
  std::vector<Received> out;
  for (int round = 0; round < 20 && out.size() < want; ++round) {
    sqs::ReceiveMessageParams p;
    p.endpoint = gate.endpoint("sqs");
    p.queue_url = queue_url;
    p.wait_time = std::chrono::seconds(1);
    p.visibility_timeout = std::chrono::seconds(60);
    Diagnostics diag;
    auto req = sqs::make_receive_message_request(p, diag);
    REQUIRE(req.has_value());
    auto res = gate.send(*req, "sqs");
    auto msgs = sqs::parse_receive_message_response(res, diag);
    INFO(diag << " body " << res.body);
    REQUIRE(msgs.has_value());
    for (auto& m : *msgs) {
      Diagnostics pd;
      auto n = parse_notification(m.body, pd);
      INFO(pd << " body " << m.body);
      REQUIRE(n.has_value());
      CHECK(m.receive_count() == 1);
      CHECK(m.sent_time().has_value());
      out.push_back({std::move(m), std::move(*n)});
    }
  }
  return out;
}

std::map<std::string, std::string> queue_attributes(const GateClient& gate, const std::string& queue_url) {
  Diagnostics diag;
  sqs::GetQueueAttributesParams p;
  p.endpoint = gate.endpoint("sqs");
  p.queue_url = queue_url;
  p.attribute_names = {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"};
  auto req = sqs::make_get_queue_attributes_request(p, diag);
  REQUIRE(req.has_value());
  auto attrs = sqs::parse_get_queue_attributes_response(gate.send(*req, "sqs"), diag);
  INFO(diag);
  REQUIRE(attrs.has_value());
  return *attrs;
}

// DeleteMessageBatch in batches of 10; returns how many were deleted.
std::size_t delete_all(const GateClient& gate, const std::string& queue_url, const std::vector<Received>& got) {
  std::size_t deleted = 0;
  for (std::size_t i = 0; i < got.size(); i += sqs::max_batch_entries) {
    sqs::DeleteMessageBatchParams p;
    p.endpoint = gate.endpoint("sqs");
    p.queue_url = queue_url;
    for (std::size_t j = i; j < got.size() && j < i + sqs::max_batch_entries; ++j)
      p.entries.push_back({"m" + std::to_string(j), got[j].message.receipt_handle});
    Diagnostics diag;
    auto req = sqs::make_delete_message_batch_request(p, diag);
    REQUIRE(req.has_value());
    auto res = sqs::parse_delete_message_batch_response(gate.send(*req, "sqs"), diag);
    INFO(diag);
    REQUIRE(res.has_value());
    CHECK(res->failed.empty());
    deleted += res->successful.size();
  }
  return deleted;
}

}  // namespace

TEST_CASE("Seeded notifications of all three routes are received, parsed, fetched and deleted through the gate",
          "[integration][protocol]") {
  Peers peers;
  // A space and a plus in every key: S3 event notifications must carry them URL-encoded.
  auto seeded = peers.seed({"--files", "3", "--records", "4", "--name-suffix", " a+b"});
  INFO(seeded.log);
  REQUIRE(seeded.exit_code == 0);
  auto summary = boost::json::parse(seeded.summary).as_object();
  REQUIRE(summary.at("notification_mode").as_string() == "s3");
  const std::string bucket(summary.at("bucket").as_string());
  std::map<std::string, std::uint64_t> seeded_objects;  // key → size
  for (const auto& o : summary.at("objects").as_array())
    seeded_objects.emplace(std::string(o.at("key").as_string()), o.at("size").to_number<std::uint64_t>());
  REQUIRE(seeded_objects.size() == 3);
  const auto& queues = summary.at("queues").as_object();
  GateClient gate(peers);

  struct Route {
    const char* queue;
    NotificationFormat format;
    bool via_sns;
    std::size_t test_events;
  };
  for (const Route& route : {Route{"ct-s3-events", NotificationFormat::s3_event, false, 1},
                             Route{"ct-sns-events", NotificationFormat::s3_event, true, 1},
                             Route{"ct-native-events", NotificationFormat::cloudtrail_sns, true, 0}}) {
    INFO(route.queue);
    const std::string url(queues.at(route.queue).at("url").as_string());
    const std::size_t expected = seeded_objects.size() + route.test_events;
    CHECK(queue_attributes(gate, url).at("ApproximateNumberOfMessages") == std::to_string(expected));

    auto got = receive_all(gate, url, expected);
    REQUIRE(got.size() == expected);
    std::set<std::string> keys;
    std::size_t test_events = 0;
    for (const auto& r : got) {
      CHECK(r.notification.via_sns == route.via_sns);
      if (r.notification.is_test_event()) {
        ++test_events;
        continue;
      }
      CHECK(r.notification.format == route.format);
      for (const auto& o : r.notification.objects) {
        CHECK(o.bucket == bucket);
        keys.insert(o.key);
        // Fetch what was announced: the decoded key must name the stored object.
        s3::GetObjectParams gp;
        gp.endpoint = gate.endpoint("s3");
        gp.bucket = o.bucket;
        gp.key = o.key;
        Diagnostics diag;
        auto req = s3::make_get_object_request(gp, diag);
        REQUIRE(req.has_value());
        CHECK(req->path.find("%20a%2Bb.json.gz") != std::string::npos);
        auto res = gate.send(*req, "s3");
        INFO(o.key << " HTTP " << res.status << " " << res.body.substr(0, 300));
        REQUIRE(res.status == 200);
        CHECK(res.body.size() == seeded_objects.at(o.key));
        CHECK(res.body.substr(0, 2) == "\x1f\x8b");
      }
    }
    CHECK(test_events == route.test_events);
    std::set<std::string> want;
    for (const auto& [k, size] : seeded_objects) want.insert(k);
    CHECK(keys == want);

    CHECK(delete_all(gate, url, got) == expected);
    auto after = queue_attributes(gate, url);
    CHECK(after.at("ApproximateNumberOfMessages") == "0");
    CHECK(after.at("ApproximateNumberOfMessagesNotVisible") == "0");
  }
  auto stats = boost::json::parse(peers.gate_stats()).as_object();
  INFO(peers.gate_rejects());
  CHECK(stats.at("rejected").as_int64() == 0);
  CHECK(stats.at("accepted").as_int64() > 20);
}

TEST_CASE("Visibility changes, partial batch failures and error responses against the peers",
          "[integration][protocol]") {
  Peers peers;
  auto seeded = peers.seed({"--files", "2", "--records", "1", "--routes", "native"});
  INFO(seeded.log);
  REQUIRE(seeded.exit_code == 0);
  auto summary = boost::json::parse(seeded.summary).as_object();
  const std::string url(summary.at("queues").at("ct-native-events").at("url").as_string());
  const std::string bucket(summary.at("bucket").as_string());
  GateClient gate(peers);

  auto first = receive_all(gate, url, 2);
  REQUIRE(first.size() == 2);

  // ChangeMessageVisibility 0 on one, batch on the other: both come back at once, counted twice.
  Diagnostics diag;
  sqs::ChangeMessageVisibilityParams one;
  one.endpoint = gate.endpoint("sqs");
  one.queue_url = url;
  one.entry = {"", first[0].message.receipt_handle, std::chrono::seconds(0)};
  auto r1 = sqs::make_change_message_visibility_request(one, diag);
  REQUIRE(r1.has_value());
  auto c1 = sqs::parse_change_message_visibility_response(gate.send(*r1, "sqs"), diag);
  INFO(diag);
  REQUIRE(c1.has_value());
  sqs::ChangeMessageVisibilityBatchParams batch;
  batch.endpoint = gate.endpoint("sqs");
  batch.queue_url = url;
  batch.entries = {{"a", first[1].message.receipt_handle, std::chrono::seconds(0)},
                   {"bogus", "not-a-receipt-handle", std::chrono::seconds(0)}};
  auto r2 = sqs::make_change_message_visibility_batch_request(batch, diag);
  REQUIRE(r2.has_value());
  auto c2 = sqs::parse_change_message_visibility_batch_response(gate.send(*r2, "sqs"), diag);
  INFO(diag);
  REQUIRE(c2.has_value());
  CHECK(c2->successful == std::vector<std::string>{"a"});
  REQUIRE(c2->failed.size() == 1);
  CHECK(c2->failed[0].id == "bogus");
  CHECK_FALSE(c2->failed[0].code.empty());

  std::vector<Received> again;
  for (int i = 0; i < 10 && again.size() < 2; ++i) {
    sqs::ReceiveMessageParams p;
    p.endpoint = gate.endpoint("sqs");
    p.queue_url = url;
    p.wait_time = std::chrono::seconds(1);
    auto req = sqs::make_receive_message_request(p, diag);
    REQUIRE(req.has_value());
    auto msgs = sqs::parse_receive_message_response(gate.send(*req, "sqs"), diag);
    REQUIRE(msgs.has_value());
    for (auto& m : *msgs) again.push_back({m, *parse_notification(m.body)});
  }
  REQUIRE(again.size() == 2);
  std::set<std::string> ids_before{first[0].message.message_id, first[1].message.message_id};
  for (const auto& r : again) {
    CHECK(ids_before.count(r.message.message_id) == 1);
    CHECK(r.message.receive_count() == 2);
  }

  // Delete both (fauxqs, like SQS for an already-deleted message, accepts unknown handles on
  // delete, so the partial-failure path is exercised by the visibility batch above).
  sqs::DeleteMessageBatchParams del;
  del.endpoint = gate.endpoint("sqs");
  del.queue_url = url;
  del.entries = {{"good0", again[0].message.receipt_handle}, {"good1", again[1].message.receipt_handle}};
  auto dr = sqs::make_delete_message_batch_request(del, diag);
  REQUIRE(dr.has_value());
  auto deleted = sqs::parse_delete_message_batch_response(gate.send(*dr, "sqs"), diag);
  INFO(diag);
  REQUIRE(deleted.has_value());
  CHECK(deleted->successful.size() == 2);
  CHECK(deleted->failed.empty());
  CHECK(queue_attributes(gate, url).at("ApproximateNumberOfMessages") == "0");

  // A queue that does not exist.
  sqs::ReceiveMessageParams missing;
  missing.endpoint = gate.endpoint("sqs");
  missing.queue_url = "http://127.0.0.1:1/000000000000/no-such-queue";
  missing.wait_time = std::chrono::seconds(0);
  auto mr = sqs::make_receive_message_request(missing, diag);
  REQUIRE(mr.has_value());
  auto none = sqs::parse_receive_message_response(gate.send(*mr, "sqs"), diag);
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error() == aws_errc::queue_does_not_exist);
  CHECK(diag.http_status == 400);

  // An object that does not exist: NoSuchKey, the message's own failure.
  s3::GetObjectParams gp;
  gp.endpoint = gate.endpoint("s3");
  gp.bucket = bucket;
  gp.key = "AWSLogs/missing file+.json.gz";
  auto gr = s3::make_get_object_request(gp, diag);
  REQUIRE(gr.has_value());
  auto res = gate.send(*gr, "s3");
  CHECK(res.status == 404);
  auto err = s3::parse_error(res, gp.bucket, gp.key, diag);
  CHECK(err.code == aws_errc::no_such_key);
  CHECK(is_message_failure(err.code));
  CHECK(diag.message.find("s3://" + bucket + "/AWSLogs/missing file+.json.gz") != std::string::npos);

  // Resume with Range: the tail of a real object.
  auto objects = summary.at("objects").as_array();
  gp.key = std::string(objects.at(0).at("key").as_string());
  gp.range_start = 10;
  auto rr = s3::make_get_object_request(gp, diag);
  REQUIRE(rr.has_value());
  auto tail = gate.send(*rr, "s3");
  CHECK(tail.status == 206);
  CHECK(tail.body.size() + 10 == objects.at(0).at("size").to_number<std::size_t>());

  // An injected throttle on ReceiveMessage is classified as retryable.
  peers.gate_add_faults(R"([{"service":"sqs","action":"ReceiveMessage","status":400,"code":"ThrottlingException","times":1}])");
  auto tr = sqs::make_receive_message_request(missing, diag);
  REQUIRE(tr.has_value());
  auto throttled = sqs::parse_receive_message_response(gate.send(*tr, "sqs"), diag);
  REQUIRE_FALSE(throttled.has_value());
  CHECK(throttled.error() == aws_errc::throttling);
  CHECK(is_retryable_aws_error(throttled.error()));
}

TEST_CASE("SNS raw message delivery: the queue gets the inner notification itself", "[integration][protocol]") {
  Peers peers;
  auto seeded = peers.seed({"--files", "2", "--records", "1", "--routes", "sns,native", "--raw-delivery",
                            "--drop-test-events"});
  INFO(seeded.log);
  REQUIRE(seeded.exit_code == 0);
  auto summary = boost::json::parse(seeded.summary).as_object();
  std::set<std::string> want;
  for (const auto& o : summary.at("objects").as_array()) want.insert(std::string(o.at("key").as_string()));
  GateClient gate(peers);
  for (auto [queue, format] : {std::pair{"ct-sns-events", NotificationFormat::s3_event},
                               std::pair{"ct-native-events", NotificationFormat::cloudtrail_sns}}) {
    INFO(queue);
    const std::string url(summary.at("queues").at(queue).at("url").as_string());
    auto got = receive_all(gate, url, want.size());
    REQUIRE(got.size() == want.size());
    std::set<std::string> keys;
    for (const auto& r : got) {
      CHECK_FALSE(r.notification.via_sns);
      CHECK(r.notification.format == format);
      for (const auto& o : r.notification.objects) keys.insert(o.key);
    }
    CHECK(keys == want);
    CHECK(delete_all(gate, url, got) == want.size());
  }
}
