// Integration: the delivery ledger with real peers — kill -9 mid-drain then re-drain with and
// without a SQLite ledger (duplicate records counted), deletes that fail, the DynamoDB ledger on
// dynalite through the SigV4 gate (library calls, `ctsqs ledger init`, a drain).
#include "ctsqs/aws/client.hpp"
#include "ctsqs/ledger/dynamodb_ledger.hpp"
#include "ctsqs/ledger/sqlite_ledger.hpp"

#include "collector_helpers.hpp"

#include "catch.hpp"
#include "unit/catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <iostream>

using namespace ctsqs;
using namespace ctsqs::test;
using namespace std::chrono_literals;

namespace {

const std::string kExternalId = "ext-ledger-20";

/// eventID -> the key of the object holding it, read back from s3rver (node gunzips).
std::map<std::string, std::string> event_objects(const Peers& peers, const Seeded& s) {
  std::ostringstream keys;
  const std::string bucket(s.summary.at("bucket").as_string());
  for (auto& o : s.summary.at("objects").as_array()) keys << std::string(o.as_object().at("key").as_string()) << "\n";
  TempDir tmp;
  write_text(tmp.path / "keys.txt", keys.str());
  write_text(tmp.path / "ids.mjs", R"(
import zlib from "node:zlib"; import fs from "node:fs";
const [endpoint, bucket, keysFile, out] = process.argv.slice(2);
const lines = [];
for (const key of fs.readFileSync(keysFile, "utf8").split("\n").filter(Boolean)) {
  const r = await fetch(`${endpoint}/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
  if (!r.ok) throw new Error(`GET ${key}: ${r.status}`);
  const body = Buffer.from(await r.arrayBuffer());
  for (const rec of JSON.parse(zlib.gunzipSync(body).toString("utf8")).Records) lines.push(rec.eventID + "\t" + key);
}
fs.writeFileSync(out, lines.join("\n") + "\n");
)");
  const int rc = run_process({"node", (tmp.path / "ids.mjs").string(), peers.s3rver_endpoint(), bucket,
                              (tmp.path / "keys.txt").string(), (tmp.path / "ids.txt").string()},
                             {}, tmp.path / "ids.out", tmp.path / "ids.err");
  if (rc != 0) throw std::runtime_error("reading seeded objects failed: " + read_file(tmp.path / "ids.err"));
  std::map<std::string, std::string> out;
  std::istringstream in(read_file(tmp.path / "ids.txt"));
  std::string line;
  while (std::getline(in, line))
    if (auto tab = line.find('\t'); tab != std::string::npos) out[line.substr(0, tab)] = line.substr(tab + 1);
  return out;
}

std::set<std::string> objects_of(const Delivered& d, const std::map<std::string, std::string>& owner) {
  std::set<std::string> keys;
  for (auto& [id, n] : d.by_event_id)
    if (auto it = owner.find(id); it != owner.end()) keys.insert(it->second);
  return keys;
}

/// The collector file of these tests: a short visibility timeout so what a killed process held
/// comes back quickly; `extra` goes into the ctsqs section.
std::string config_text(const Peers& peers, const std::string& extra) {
  std::string cfg = collector_config(peers, "ct-s3-events", kExternalId, extra);
  const std::string from = R"("visibility_timeout":"30s","visibility_extension_interval":"10s")";
  const auto pos = cfg.find(from);
  if (pos == std::string::npos) throw std::runtime_error("collector_config changed");
  cfg.replace(pos, from.size(), R"("visibility_timeout":"4s","visibility_extension_interval":"1s")");
  return cfg;
}

struct KillRedrain {
  std::size_t events = 0;
  std::uint64_t duplicates = 0;       ///< duplicate records over both drains
  std::size_t first_objects = 0;      ///< objects with events written by the killed drain
  std::size_t recorded = 0;           ///< objects the ledger held after the kill
  std::size_t recorded_again = 0;     ///< recorded objects the re-drain delivered again (must be 0)
  std::size_t duplicated_objects = 0; ///< objects with a duplicate record
  std::string second_log;
};

/// Seeds 24 files x 50 records, drains with S3 and deletes slowed down, kills the drain with
/// SIGKILL after 200 records, drains again; counts what was delivered twice. `ledger`: a SQLite
/// file or "".
KillRedrain kill_and_redrain(const fs::path& ledger) {
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  const auto seeded = seed_or_throw(peers, {"--files", "24", "--records", "50", "--routes", "s3", "--drop-test-events"});
  const auto owner = event_objects(peers, seeded);
  REQUIRE(owner.size() == 1200);
  // S3 slowed down so the drain is busy when it is killed, and deletes slowed down (2 s) so that
  // flushed objects wait for their delete, as when the process dies between the flush and the
  // delete (or a DeleteMessageBatch answer is lost).
  peers.gate_add_faults(R"([{"service":"s3","delayMs":700},{"service":"sqs","action":"DeleteMessageBatch","delayMs":2000}])");
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, config_text(peers, R"("concurrency":{"messages_in_flight":10,"objects_in_flight":2})" +
                                         (ledger.empty() ? std::string() : R"(,"ledger":")" + ledger.string() + "\"")));
  const auto out1 = tmp.path / "out1";
  {
    Child first({ctsqs_exe().string(), "drain", "--config", cfg.string(), "--output", out1.string(), "--format", "raw",
                 "--progress", "1"},
                tmp.path / "first.out", tmp.path / "first.err");
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      Delivered d;
      read_delivered(out1, d);
      if (d.by_event_id.size() >= 200) break;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(100ms);
    }
    first.signal(SIGKILL);
    REQUIRE(first.wait(30s) == 128 + SIGKILL);
  }
  KillRedrain r;
  Delivered d1;
  read_delivered(out1, d1);
  CHECK(d1.by_event_id.size() < owner.size());  // killed in the middle
  const auto first_objects = objects_of(d1, owner);
  r.first_objects = first_objects.size();
  std::set<std::string> recorded;
  if (!ledger.empty()) {
    Diagnostics diag;
    SqliteLedgerOptions o;
    o.path = ledger.string();
    auto l = SqliteLedger::open(o, diag);
    REQUIRE(l);
    std::vector<ObjectRef> all;
    for (auto& o2 : seeded.summary.at("objects").as_array()) {
      ObjectRef ref;
      ref.bucket = std::string(seeded.summary.at("bucket").as_string());
      ref.key = std::string(o2.as_object().at("key").as_string());
      all.push_back(ref);
    }
    auto found = (*l)->lookup(all, diag).value();
    for (std::size_t i = 0; i < all.size(); ++i)
      if (found[i]) recorded.insert(all[i].key);
    r.recorded = recorded.size();
  }
  peers.gate_clear_faults();
  const auto out2 = tmp.path / "out2";
  const int rc = run_drain(cfg, out2, tmp.path, {"--empty-polls", "6"}, "second");
  r.second_log = read_file(tmp.path / "second.err");
  INFO(r.second_log);
  CHECK(rc == 0);
  Delivered d2, all;
  read_delivered(out2, d2);
  read_delivered(out1, all);
  read_delivered(out2, all);
  for (auto& [id, key] : owner) CHECK(all.by_event_id.count(id) == 1);  // nothing lost
  r.events = all.by_event_id.size();
  r.duplicates = all.duplicates();
  for (const auto& key : objects_of(d2, owner)) r.recorded_again += recorded.count(key);
  std::set<std::string> dup_objects;
  for (auto& [id, n] : all.by_event_id)
    if (n > 1) dup_objects.insert(owner.at(id));
  r.duplicated_objects = dup_objects.size();
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  return r;
}

/// Runs an awaitable on a private io_context.
template <class T>
T run_on(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
  std::optional<T> out;
  boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(v));
  });
  io.restart();
  io.run();
  return std::move(*out);
}

/// AWS client for the gate (credentials test/test; DynamoDB through AWS_ENDPOINT_URL_DYNAMODB).
std::unique_ptr<AwsClient> gate_client(boost::asio::io_context& io, const Peers& peers) {
  AwsClientOptions o;
  o.credentials.access_key_id = "test";
  o.credentials.secret_access_key = "test";
  o.endpoints.region = "us-east-1";
  o.env = environment_from({{"AWS_ENDPOINT_URL_DYNAMODB", peers.gate_endpoint()}});
  return require_create<AwsClient>(io.get_executor(), o);
}

struct EnvVar {
  std::string name;
  EnvVar(std::string n, const std::string& v) : name(std::move(n)) { ::setenv(name.c_str(), v.c_str(), 1); }
  ~EnvVar() { ::unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("kill -9 mid-drain then a re-drain without and with the SQLite ledger: duplicate records",
          "[integration][ledger]") {
  TempDir tmp;
  const auto without = kill_and_redrain({});
  const auto with = kill_and_redrain(tmp.path / "ledger.db");
  // The figures of this run (docs/ledger.md quotes them).
  WARN("kill -9 then re-drain, 1200 records in 24 objects: without ledger "
       << without.duplicates << " duplicate records (" << without.duplicated_objects << " objects; "
       << without.first_objects << " objects had events before the kill); with the SQLite ledger "
       << with.duplicates << " duplicate records (" << with.duplicated_objects << " objects; " << with.first_objects
       << " objects had events before the kill, " << with.recorded << " of them recorded)");
  CHECK(without.events == 1200);
  CHECK(with.events == 1200);
  // Once per object: no object the ledger recorded before the kill is delivered again; what is
  // duplicated are only objects written but not yet recorded when the process died.
  CHECK(with.recorded_again == 0);
  CHECK(with.recorded > 0);
  CHECK(with.duplicated_objects <= with.first_objects - with.recorded);
  CHECK(without.duplicates <= 10 * 50);
}

TEST_CASE("deletes that fail bring delivered messages back: with the ledger they are not delivered twice",
          "[integration][ledger]") {
  // DeleteMessageBatch answered 500 30 times (each batch is tried 4 times by SqsSource, each of
  // those 3 times by the AWS client: 2 batches fail for good): their messages come back after the
  // visibility timeout. Without a ledger they are delivered
  // again; with it they are deleted without a second delivery.
  std::uint64_t dup_without = 0, dup_with = 0;
  std::string log_with;
  for (const bool use_ledger : {false, true}) {
    Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
    const auto seeded = seed_or_throw(peers, {"--files", "20", "--records", "10", "--routes", "s3", "--drop-test-events"});
    const auto ids = seeded_event_ids(peers, seeded);
    REQUIRE(ids.size() == 200);
    peers.gate_add_faults(R"([{"service":"sqs","action":"DeleteMessageBatch","status":500,"code":"InternalError","times":30}])");
    TempDir tmp;
    const auto cfg = tmp.path / "c.json";
    write_text(cfg, config_text(peers, use_ledger ? R"("ledger":")" + (tmp.path / "ledger.db").string() + "\"" : ""));
    const auto out = tmp.path / "out";
    const int rc = run_drain(cfg, out, tmp.path, {"--empty-polls", "3"});
    const auto log = read_file(tmp.path / "drain.err");
    INFO(log);
    Delivered d;
    read_delivered(out, d);
    for (auto& id : ids) CHECK(d.by_event_id.count(id) >= 1);
    CHECK(d.by_event_id.size() == ids.size());
    CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
    (use_ledger ? dup_with : dup_without) = d.duplicates();
    if (use_ledger) {
      log_with = log;
      CHECK(rc == 0);
    }
  }
  WARN("DeleteMessageBatch failing 30 times: duplicate records without ledger " << dup_without << ", with ledger "
                                                                                << dup_with);
  CHECK(dup_without > 0);  // the failed deletes did bring messages back
  CHECK(dup_with == 0);
  CHECK(log_with.find("duplicates skipped") != std::string::npos);
  CHECK(log_with.find(" 0 duplicates skipped") == std::string::npos);
}

TEST_CASE("DynamoDB ledger on dynalite through the SigV4 gate: lookups and records and claims and init",
          "[integration][ledger]") {
  Peers peers({.peers = "gate dynalite", .env = {}});
  boost::asio::io_context io;
  auto client = gate_client(io, peers);
  Diagnostics diag;
  DynamoDbLedgerOptions opts;
  opts.table = "ctsqs-ledger";
  auto report = run_on(io, async_init_dynamodb_ledger(*client, opts, diag));
  INFO(diag.message);
  REQUIRE(report);
  CHECK(report->created);
  CHECK(report->ttl_enabled);
  CHECK(report->table_status == "ACTIVE");
  CHECK(report->billing_mode == "PAY_PER_REQUEST");
  CHECK(report->missing_permissions.empty());
  // A second init finds it ready.
  auto again = run_on(io, async_init_dynamodb_ledger(*client, opts, diag));
  REQUIRE(again);
  CHECK_FALSE(again->created);
  CHECK_FALSE(again->ttl_enabled);

  DynamoDbLedger ledger(*client, opts);
  std::vector<LedgerRecord> records;
  for (int i = 0; i < 60; ++i) {  // more than one BatchWriteItem (25)
    LedgerRecord r;
    r.bucket = "trail-bucket";
    r.key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/06/f" + std::to_string(i) + ".json.gz";
    r.etag = "etag" + std::to_string(i);
    r.events = static_cast<std::uint64_t>(i);
    r.delivered_at = std::chrono::system_clock::now();
    r.collector_id = "c1";
    records.push_back(r);
  }
  REQUIRE(run_on(io, ledger.async_record(records, diag)));
  std::vector<ObjectRef> ask;
  for (int i = 0; i < 130; i += 2) {  // more than one BatchGetItem (100); half of them absent
    ObjectRef o;
    o.bucket = "trail-bucket";
    o.key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/06/f" + std::to_string(i) + ".json.gz";
    ask.push_back(o);
  }
  ask.push_back(ask.front());  // a duplicate key is answered too
  auto found = run_on(io, ledger.async_lookup(ask, diag));
  INFO(diag.message);
  REQUIRE(found);
  REQUIRE(found->size() == ask.size());
  for (std::size_t j = 0; j + 1 < ask.size(); ++j) {
    const int i = static_cast<int>(j) * 2;
    if (i < 60) {
      REQUIRE((*found)[j]);
      CHECK((*found)[j]->etag == "etag" + std::to_string(i));
      CHECK((*found)[j]->events == static_cast<std::uint64_t>(i));
    } else {
      CHECK_FALSE((*found)[j]);
    }
  }
  CHECK(found->back()->etag == "etag0");
  // Claims: one claimant wins, a delivered object is reported as such.
  const auto now = std::chrono::system_clock::now();
  LedgerClaim a{"trail-bucket", "hole.json.gz", "collector-a", now, now + 10min};
  LedgerClaim b{"trail-bucket", "hole.json.gz", "collector-b", now, now + 10min};
  CHECK(run_on(io, ledger.async_claim(a, diag)).value() == ClaimOutcome::claimed);
  CHECK(run_on(io, ledger.async_claim(b, diag)).value() == ClaimOutcome::held_by_other);
  b.now = now + 11min;  // a's claim lapsed
  CHECK(run_on(io, ledger.async_claim(b, diag)).value() == ClaimOutcome::claimed);
  LedgerClaim c{"trail-bucket", records[3].key, "collector-c", now, now + 10min};
  CHECK(run_on(io, ledger.async_claim(c, diag)).value() == ClaimOutcome::already_delivered);
  const auto st = ledger.stats();
  CHECK(st.batch_write_item == 3);
  CHECK(st.batch_get_item >= 2);
  // Every call went through the gate and passed its SigV4 check.
  const auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("rejected").as_int64() == 0);
  CHECK(stats.at("byAction").as_object().at("dynamodb.BatchGetItem").as_int64() >= 2);
}

TEST_CASE("ctsqs ledger init names missing permissions and a drain with the DynamoDB ledger skips what it delivered",
          "[integration][ledger]") {
  Peers peers({.peers = "fauxqs s3rver gate dynalite", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  EnvVar endpoint("AWS_ENDPOINT_URL_DYNAMODB", peers.gate_endpoint());
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, config_text(peers, R"("ledger":"dynamodb://ctsqs-ledger")"));
  // AccessDenied on CreateTable and UpdateTimeToLive: named as IAM actions, exit 1.
  peers.gate_add_faults(
      R"([{"service":"dynamodb","action":"CreateTable","status":400,"code":"AccessDeniedException","__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:iam::000000000000:user/test is not authorized to perform: dynamodb:CreateTable"}])");
  Child denied({ctsqs_exe().string(), "ledger", "init", "--config", cfg.string()}, tmp.path / "denied.out",
               tmp.path / "denied.err");
  CHECK(denied.wait(60s) == 1);
  const auto denied_out = read_file(tmp.path / "denied.out");
  INFO(denied_out << read_file(tmp.path / "denied.err"));
  CHECK(denied_out.find("missing permission(s): dynamodb:CreateTable") != std::string::npos);
  peers.gate_clear_faults();
  Child init({ctsqs_exe().string(), "ledger", "init", "--config", cfg.string()}, tmp.path / "init.out",
             tmp.path / "init.err");
  CHECK(init.wait(60s) == 0);
  const auto init_out = read_file(tmp.path / "init.out");
  INFO(init_out << read_file(tmp.path / "init.err"));
  CHECK(init_out.find("CreateTable: ctsqs-ledger created") != std::string::npos);
  CHECK(init_out.find("is ready (PAY_PER_REQUEST)") != std::string::npos);

  // 30 objects delivered; the same notifications sent again (as after a redrive): skipped.
  const auto seeded = seed_or_throw(peers, {"--files", "30", "--records", "5", "--routes", "s3", "--drop-test-events"});
  const auto ids = seeded_event_ids(peers, seeded);
  peers.gate_reset();
  const auto out = tmp.path / "out";
  int rc = run_drain(cfg, out, tmp.path, {"--empty-polls", "2"}, "first");
  INFO(read_file(tmp.path / "first.err"));
  CHECK(rc == 0);
  const auto stats = boost::json::parse(peers.gate_stats()).as_object();
  CHECK(stats.at("rejected").as_int64() == 0);
  const auto& by = stats.at("byAction").as_object();
  const auto gets = by.contains("dynamodb.BatchGetItem") ? by.at("dynamodb.BatchGetItem").as_int64() : 0;
  const auto writes = by.contains("dynamodb.BatchWriteItem") ? by.at("dynamodb.BatchWriteItem").as_int64() : 0;
  const auto receives = by.at("sqs.ReceiveMessage").as_int64();
  WARN("DynamoDB ledger drain of 30 objects: " << gets << " BatchGetItem, " << writes << " BatchWriteItem, "
                                                << receives << " ReceiveMessage");
  CHECK(gets >= 1);
  CHECK(gets <= receives);  // one lookup per received batch at most
  CHECK(writes >= 2);       // 25 items at most per BatchWriteItem...
  CHECK(writes <= 30);      // ...and messages that finish together share one (group commit)
  for (auto& o : seeded.summary.at("objects").as_array()) {
    const std::string key(o.as_object().at("key").as_string());
    boost::json::object rec{{"s3", boost::json::object{{"bucket", boost::json::object{{"name", seeded.summary.at("bucket")}}},
                                                       {"object", boost::json::object{{"key", key},
                                                                                      {"eTag", o.as_object().at("etag")}}}}},
                            {"eventSource", "aws:s3"},
                            {"eventName", "ObjectCreated:Put"},
                            {"awsRegion", "us-east-1"}};
    send_message(peers, "ct-s3-events",
                 boost::json::serialize(boost::json::object{{"Records", boost::json::array{rec}}}));
  }
  const auto out2 = tmp.path / "out2";
  rc = run_drain(cfg, out2, tmp.path, {"--empty-polls", "2"}, "second");
  const auto log2 = read_file(tmp.path / "second.err");
  INFO(log2);
  CHECK(rc == 0);
  Delivered again;
  read_delivered(out2, again);
  CHECK(again.by_event_id.empty());
  CHECK(log2.find("30 duplicates skipped") != std::string::npos);
  Delivered first;
  read_delivered(out, first);
  CHECK(first.by_event_id.size() == ids.size());
  CHECK(first.duplicates() == 0);
}

TEST_CASE("two collectors on one queue share the DynamoDB ledger: messages whose delete failed are not delivered twice",
          "[integration][ledger]") {
  // Two drains at once on one queue, DeleteMessageBatch failing 30 times: the messages of the
  // failed batches come back after the visibility timeout, to either collector; the one that gets
  // them finds them in the shared table and deletes them without a delivery.
  Peers peers({.peers = "fauxqs s3rver gate dynalite", .env = {{"GATE_EXTERNAL_ID", kExternalId}}});
  EnvVar endpoint("AWS_ENDPOINT_URL_DYNAMODB", peers.gate_endpoint());
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, config_text(peers, R"("ledger":"dynamodb://ctsqs-fleet")"));
  Child init({ctsqs_exe().string(), "ledger", "init", "--config", cfg.string()}, tmp.path / "init.out",
             tmp.path / "init.err");
  REQUIRE(init.wait(60s) == 0);
  const auto seeded = seed_or_throw(peers, {"--files", "40", "--records", "10", "--routes", "s3", "--drop-test-events"});
  const auto ids = seeded_event_ids(peers, seeded);
  REQUIRE(ids.size() == 400);
  peers.gate_add_faults(R"([{"service":"sqs","action":"DeleteMessageBatch","status":500,"code":"InternalError","times":30}])");
  const auto out_a = tmp.path / "out-a", out_b = tmp.path / "out-b";
  auto drain = [&](const fs::path& out, const std::string& name) {
    return std::make_unique<Child>(std::vector<std::string>{ctsqs_exe().string(), "drain", "--config", cfg.string(),
                                                           "--output", out.string(), "--format", "raw", "--progress",
                                                           "1", "--empty-polls", "3"},
                                   tmp.path / (name + ".out"), tmp.path / (name + ".err"));
  };
  auto a = drain(out_a, "a");
  auto b = drain(out_b, "b");
  const int rc_a = a->wait(240s), rc_b = b->wait(240s);
  const auto log_a = read_file(tmp.path / "a.err"), log_b = read_file(tmp.path / "b.err");
  INFO("collector a:\n" << log_a << "\ncollector b:\n" << log_b);
  // A drain may end 1 when the other took a message back after it had polled empty; what counts
  // is the queue and the outputs.
  CHECK((rc_a == 0 || rc_b == 0));
  Delivered da, db, all;
  read_delivered(out_a, da);
  read_delivered(out_b, db);
  read_delivered(out_a, all);
  read_delivered(out_b, all);
  for (auto& id : ids) CHECK(all.by_event_id.count(id) == 1);
  CHECK(all.by_event_id.size() == ids.size());
  CHECK(all.duplicates() == 0);
  CHECK(queue_depth(peers, "ct-s3-events") == std::pair<long, long>{0, 0});
  const bool skipped = log_a.find("duplicates skipped") != std::string::npos ||
                       log_b.find("duplicates skipped") != std::string::npos;
  CHECK(skipped);
  WARN("two collectors, DeleteMessageBatch failing 30 times: " << da.by_event_id.size() << " + "
                                                                << db.by_event_id.size() << " records, "
                                                                << all.duplicates() << " duplicates");
}
