// Unit tests of the ledger's pure parts (matching, locations) and of the in-memory ledger.
#include "ctsqs/ledger/ledger.hpp"

#include "ctsqs/collector/config.hpp"

#include "unit/catch_result.hpp"
#include "unit/ledger/ledger_test_util.hpp"

using namespace ctsqs;
using ctsqs::test::run_awaitable;

namespace {
ObjectRef obj(std::string bucket, std::string key, std::string etag = {}, std::string version = {}) {
  ObjectRef o;
  o.bucket = std::move(bucket);
  o.key = std::move(key);
  o.etag = std::move(etag);
  o.version_id = std::move(version);
  return o;
}
LedgerRecord rec(std::string bucket, std::string key, std::string etag = {}, std::string version = {}) {
  LedgerRecord r;
  r.bucket = std::move(bucket);
  r.key = std::move(key);
  r.etag = std::move(etag);
  r.version_id = std::move(version);
  r.events = 3;
  r.collector_id = "c1";
  return r;
}
}  // namespace

TEST_CASE("match_record: version ids decide, then ETags, then the key alone") {
  CHECK(match_record(obj("b", "k", "e1"), std::nullopt) == LedgerMatch::absent);
  CHECK(match_record(obj("b", "k", "e1"), rec("b", "k", "e1")) == LedgerMatch::same);
  CHECK(match_record(obj("b", "k", "\"e1\""), rec("b", "k", "e1")) == LedgerMatch::same);
  CHECK(match_record(obj("b", "k", "e2"), rec("b", "k", "e1")) == LedgerMatch::changed);
  CHECK(match_record(obj("b", "k", "e1", "v2"), rec("b", "k", "e1", "v1")) == LedgerMatch::changed);
  CHECK(match_record(obj("b", "k", "e2", "v1"), rec("b", "k", "e1", "v1")) == LedgerMatch::same);
  // Only one side names a version: the ETags decide.
  CHECK(match_record(obj("b", "k", "e1", "v1"), rec("b", "k", "e1")) == LedgerMatch::same);
  // CloudTrail's SNS notification names keys only.
  CHECK(match_record(obj("b", "k"), rec("b", "k", "e1")) == LedgerMatch::same);
  CHECK(match_record(obj("b", "k", "e1"), rec("b", "k")) == LedgerMatch::same);
}

TEST_CASE("parse_ledger_location: dynamodb://TABLE or a path, errors name the field") {
  Diagnostics d;
  auto a = parse_ledger_location("dynamodb://ctsqs-ledger", "ctsqs.ledger", d);
  REQUIRE(a);
  CHECK(a->kind == LedgerLocation::Kind::dynamodb);
  CHECK(a->table == "ctsqs-ledger");
  auto b = parse_ledger_location("/var/lib/ctsqs/ledger.db", "ctsqs.ledger", d);
  REQUIRE(b);
  CHECK(b->kind == LedgerLocation::Kind::sqlite);
  CHECK(b->path == "/var/lib/ctsqs/ledger.db");
  auto c = parse_ledger_location("sqlite:ledger.db", "--ledger", d);
  REQUIRE(c);
  CHECK(c->path == "ledger.db");
  CHECK_FALSE(parse_ledger_location("dynamodb://ab", "ctsqs.ledger", d));
  CHECK(d.message.find("ctsqs.ledger") == 0);
  CHECK(d.message.find("3 to 255") != std::string::npos);
  CHECK_FALSE(parse_ledger_location("dynamodb://a b c", "--ledger", d));
  CHECK(d.message.find("--ledger") == 0);
  CHECK_FALSE(parse_ledger_location("", "ctsqs.ledger", d));
  CHECK_FALSE(parse_ledger_location("s3://bucket/x", "ctsqs.ledger", d));
  CHECK(d.message.find("neither") != std::string::npos);
}

TEST_CASE("memory ledger: batched lookup in order, record replaces, claims") {
  auto ledger = make_memory_ledger();
  Diagnostics d;
  REQUIRE(run_awaitable(ledger->async_record({rec("b", "k1", "e1"), rec("b", "k2", "e2")}, d)));
  auto found = run_awaitable(ledger->async_lookup({obj("b", "k2"), obj("b", "nope"), obj("b", "k1"), obj("b", "k2")}, d));
  REQUIRE(found);
  REQUIRE(found->size() == 4);
  CHECK((*found)[0]->etag == "e2");
  CHECK_FALSE((*found)[1]);
  CHECK((*found)[2]->etag == "e1");
  CHECK((*found)[3]->etag == "e2");
  REQUIRE(run_awaitable(ledger->async_record({rec("b", "k1", "e9")}, d)));
  found = run_awaitable(ledger->async_lookup({obj("b", "k1")}, d));
  CHECK((*found)[0]->etag == "e9");

  const auto t0 = std::chrono::system_clock::time_point(std::chrono::hours(1000));
  LedgerClaim c{"b", "hole", "A", t0, t0 + std::chrono::minutes(5)};
  CHECK(run_awaitable(ledger->async_claim(c, d)).value() == ClaimOutcome::claimed);
  LedgerClaim other{"b", "hole", "B", t0 + std::chrono::minutes(1), t0 + std::chrono::minutes(6)};
  CHECK(run_awaitable(ledger->async_claim(other, d)).value() == ClaimOutcome::held_by_other);
  CHECK(run_awaitable(ledger->async_claim(c, d)).value() == ClaimOutcome::claimed);  // A again: its own
  other.now = t0 + std::chrono::minutes(10);  // A's claim lapsed
  CHECK(run_awaitable(ledger->async_claim(other, d)).value() == ClaimOutcome::claimed);
  found = run_awaitable(ledger->async_lookup({obj("b", "hole")}, d));
  CHECK_FALSE((*found)[0]);  // a claim is not a delivery
  REQUIRE(run_awaitable(ledger->async_record({rec("b", "hole")}, d)));
  CHECK(run_awaitable(ledger->async_claim(c, d)).value() == ClaimOutcome::already_delivered);
}

TEST_CASE("collector file: ctsqs.ledger and ctsqs.ledger_retention are parsed, validated, summarised") {
  const std::string base =
      R"({"inputs":{"sqs_collector":{"id":"12345","services":{"aws_sqs_cloudtrail":{}},)"
      R"("region":"us-east-1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}},"ctsqs":)";
  Diagnostics d;
  auto c = parse_collector_config(base + R"({"ledger":"/var/lib/ctsqs/ledger.db","ledger_retention":"40d"}})", "t.json", d);
  INFO(d.message);
  REQUIRE(c);
  CHECK(c->ledger == "/var/lib/ctsqs/ledger.db");
  CHECK(c->ledger_retention == std::chrono::hours(40 * 24));
  CHECK(describe(*c).find("ledger: /var/lib/ctsqs/ledger.db (records kept 40 days)") != std::string::npos);
  auto dflt = parse_collector_config(base + R"({"ledger":"dynamodb://ctsqs-ledger"}})", "t.json", d);
  REQUIRE(dflt);
  CHECK(dflt->ledger_retention == std::chrono::hours(35 * 24));
  auto none = parse_collector_config(base + R"({}})", "t.json", d);
  REQUIRE(none);
  CHECK_FALSE(none->ledger);
  CHECK(describe(*none).find("ledger: off") != std::string::npos);
  CHECK_FALSE(parse_collector_config(base + R"({"ledger":"dynamodb://x"}})", "t.json", d));
  CHECK(d.message.find("ctsqs.ledger") != std::string::npos);
  CHECK(d.message.find("3 to 255") != std::string::npos);
  CHECK_FALSE(parse_collector_config(base + R"({"ledger":42}})", "t.json", d));
  CHECK(d.message.find("ctsqs.ledger") != std::string::npos);
  CHECK_FALSE(parse_collector_config(base + R"({"ledger":"l.db","ledger_retention":"10m"}})", "t.json", d));
  CHECK(d.message.find("ctsqs.ledger_retention") != std::string::npos);
}
