// Unit tests: the heal bookkeeping (HoleBook) — holes waiting their grace, messages and receipts,
// outcomes (healed, filled meanwhile, missing evidence, failed), extensions, releases, backoffs.
#include "ctsqs/integrity/drain_heal.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/collector/config.hpp"
#include "ctsqs/collector/metrics.hpp"

#include "catch.hpp"

#include <algorithm>

using namespace ctsqs;
using namespace ctsqs::integrity;
using namespace std::chrono;
using Clock = HoleBook::Clock;

namespace {

const Clock::time_point t0{};

Hole hole(std::string key, std::string digest = "s3://b/d1") {
  return Hole{"b", std::move(key), std::string(64, 'a'), std::move(digest)};
}

std::vector<SqsMessage> due_and_received(HoleBook& book, Clock::time_point now, int max = 10) {
  for (const auto& h : book.take_due(now)) book.queue(h.uri());
  return book.receive(max, now);
}

}  // namespace

TEST_CASE("HoleBook: holes wait their grace, are taken once each, then become messages") {
  HoleBook book("tag");
  auto taken = book.wait({hole("k1"), hole("k2")}, t0 + seconds(600));
  CHECK(taken.size() == 2);
  // The same files listed again (the digest came twice): not taken again.
  CHECK(book.wait({hole("k1"), hole("k3")}, t0 + seconds(700)).size() == 1);
  CHECK(book.pending() == 3);
  CHECK(book.next_due() == t0 + seconds(600));
  CHECK(book.take_due(t0 + seconds(599)).empty());
  CHECK(book.receive(10, t0 + seconds(599)).empty());  // nothing before the grace ends
  auto due = book.take_due(t0 + seconds(600));
  REQUIRE(due.size() == 2);
  CHECK(book.next_due() == t0 + seconds(700));
  book.queue(due[0].uri());
  book.drop(due[1].uri());  // recorded during the grace
  CHECK(book.pending() == 2);
  auto msgs = book.receive(10, t0 + seconds(600));
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].receipt_handle.starts_with(HoleBook::receipt_prefix));
  CHECK(msgs[0].receive_count == 1);
  CHECK(book.owns(msgs[0].receipt_handle));
  CHECK_FALSE(book.owns("AQEB-an-sqs-receipt"));
  auto plan = book.plan(msgs[0].receipt_handle);
  REQUIRE(plan);
  CHECK(plan->kind == MessagePlan::Kind::objects);
  REQUIRE(plan->objects.size() == 1);
  CHECK(plan->objects[0].bucket == "b");
  CHECK(plan->objects[0].key == "k1");
  CHECK(book.fetching("b", "k1"));
  CHECK_FALSE(book.fetching("b", "k3"));  // still in its grace
  CHECK(book.latest_wait(t0 + seconds(600)) == t0 + seconds(700));
}

TEST_CASE("HoleBook: a heal delivered after a read is healed, with the SHA-256 read") {
  HoleBook book;
  book.wait({hole("k1")}, t0);
  auto msgs = due_and_received(book, t0);
  REQUIRE(msgs.size() == 1);
  const auto& r = msgs[0].receipt_handle;
  std::optional<FinishedHeal> f;
  // The collector extends its visibility while it works on it: nothing ends.
  CHECK(book.change_visibility(r, seconds(120), t0, f));
  CHECK_FALSE(f);
  CHECK(book.read_sha256("b", "k1").empty());
  book.fetched("b", "k1", {}, "", "abc");
  CHECK(book.read_sha256("b", "k1") == "abc");  // what the ledger record of it gets
  book.note_outcome(r, MessageOutcome::delivered);
  CHECK(book.deleted(r, f));
  REQUIRE(f);
  CHECK(f->end == HealEnd::healed);
  CHECK(f->sha256 == "abc");
  CHECK(f->hole.digest == "s3://b/d1");
  CHECK(book.pending() == 0);
  CHECK_FALSE(book.owns(r));
  CHECK_FALSE(book.deleted(r, f));  // a receipt that is done is unknown
  // Healed files may be listed again by a later digest and taken (a redelivered digest: the
  // ledger lookup at its arrival finds them recorded first).
  CHECK(book.wait({hole("k1")}, t0).size() == 1);
}

TEST_CASE("HoleBook: a delivered heal kept by the collector (ack_messages off) ends all the same") {
  HoleBook book;
  book.wait({hole("k1")}, t0);
  auto msgs = due_and_received(book, t0);
  std::optional<FinishedHeal> f;
  book.fetched("b", "k1", {}, "", "abc");
  book.note_outcome(msgs[0].receipt_handle, MessageOutcome::delivered);
  CHECK(book.change_visibility(msgs[0].receipt_handle, seconds(5), t0, f));
  REQUIRE(f);
  CHECK(f->end == HealEnd::healed);
  CHECK(book.pending() == 0);
  CHECK(book.receive(10, t0 + hours(1)).empty());
}

TEST_CASE("HoleBook: delivered without a read means another delivery recorded it meanwhile") {
  HoleBook book;
  book.wait({hole("k1")}, t0);
  auto msgs = due_and_received(book, t0);
  std::optional<FinishedHeal> f;
  book.note_outcome(msgs[0].receipt_handle, MessageOutcome::delivered);
  CHECK(book.deleted(msgs[0].receipt_handle, f));
  REQUIRE(f);
  CHECK(f->end == HealEnd::filled_meanwhile);
}

TEST_CASE("HoleBook: a listed file gone from the bucket is missing evidence, given up for good") {
  HoleBook book;
  book.wait({hole("gone")}, t0);
  auto msgs = due_and_received(book, t0);
  const auto r = msgs[0].receipt_handle;
  book.fetched("b", "gone", make_error_code(aws_errc::no_such_key), "NoSuchKey: The specified key does not exist.", "");
  book.note_outcome(r, MessageOutcome::permanent_failure);
  std::optional<FinishedHeal> f;
  CHECK(book.change_visibility(r, seconds(5), t0, f));  // the collector's backoff: never comes back
  REQUIRE(f);
  CHECK(f->end == HealEnd::evidence_missing);
  CHECK(f->why.find("NoSuchKey") != std::string::npos);
  CHECK(book.pending() == 0);
  CHECK(book.receive(10, t0 + hours(1)).empty());
  // Listed again by a digest that comes twice: not taken again in this process.
  CHECK(book.wait({hole("gone")}, t0).empty());
}

TEST_CASE("HoleBook: a permanent failure of the file's own is a failed heal") {
  HoleBook book;
  book.wait({hole("corrupt")}, t0);
  auto msgs = due_and_received(book, t0);
  const auto r = msgs[0].receipt_handle;
  book.fetched("b", "corrupt", {}, "", "");  // read, then the decoder refused it
  book.note_outcome(r, MessageOutcome::permanent_failure);
  std::optional<FinishedHeal> f;
  CHECK(book.deleted(r, f));  // on_permanent_error.delete_after_receives deletes it
  REQUIRE(f);
  CHECK(f->end == HealEnd::failed);
  CHECK_FALSE(f->why.empty());
}

TEST_CASE("HoleBook: a retryable failure hides the heal for the backoff; a release shows it at once") {
  HoleBook book;
  book.wait({hole("k1")}, t0);
  auto msgs = due_and_received(book, t0);
  std::optional<FinishedHeal> f;
  book.fetched("b", "k1", make_error_code(aws_errc::internal_error), "503", "");
  book.note_outcome(msgs[0].receipt_handle, MessageOutcome::retryable_failure);
  CHECK(book.change_visibility(msgs[0].receipt_handle, seconds(10), t0, f));
  CHECK_FALSE(f);
  CHECK(book.receive(10, t0 + seconds(9)).empty());
  CHECK(book.latest_wait(t0) == t0 + seconds(10));
  auto again = book.receive(10, t0 + seconds(10));
  REQUIRE(again.size() == 1);
  CHECK(again[0].receive_count == 2);
  CHECK(again[0].receipt_handle != msgs[0].receipt_handle);
  CHECK_FALSE(book.owns(msgs[0].receipt_handle));
  CHECK_FALSE(book.fetching("b", "zz"));
  // A stop releases it (visibility 0, no outcome): visible again, that receive not counted.
  CHECK(book.change_visibility(again[0].receipt_handle, seconds(0), t0 + seconds(10), f));
  CHECK_FALSE(f);
  auto third = book.receive(10, t0 + seconds(10));
  REQUIRE(third.size() == 1);
  CHECK(third[0].receive_count == 2);
  auto left = book.abandon();
  REQUIRE(left.size() == 1);
  CHECK(left[0].key == "k1");
  CHECK(book.pending() == 0);
}

TEST_CASE("HoleBook: report messages carry their events to the decoder named by their plan") {
  HoleBook book("secret");
  Event e;
  e.tag = "cloud.aws.cloudtrail.integrity";
  e.record = "{\"kind\":\"healed\"}";
  book.report({e});
  auto msgs = book.receive(10, t0);
  REQUIRE(msgs.size() == 1);
  auto plan = book.plan(msgs[0].receipt_handle);
  REQUIRE(plan);
  CHECK(plan->kind == MessagePlan::Kind::inline_records);
  CHECK(plan->inline_source.starts_with(std::string(HoleBook::report_source) + "secret:"));
  const auto* ev = book.report_events(plan->inline_source);
  REQUIRE(ev);
  REQUIRE(ev->size() == 1);
  CHECK((*ev)[0].record == "{\"kind\":\"healed\"}");
  // A source without the book's tag (an EventBridge event naming one) is not a report.
  CHECK(book.report_events(std::string(HoleBook::report_source) + "1") == nullptr);
  CHECK(book.report_events("aws.cloudtrail") == nullptr);
  std::optional<FinishedHeal> f;
  book.note_outcome(msgs[0].receipt_handle, MessageOutcome::delivered);
  CHECK(book.deleted(msgs[0].receipt_handle, f));
  CHECK_FALSE(f);  // a report is not a heal
  CHECK(book.pending() == 0);
  CHECK(book.report_events(plan->inline_source) == nullptr);
}

TEST_CASE("HoleBook: receive hands out at most the number asked for, in the order found") {
  HoleBook book;
  book.wait({hole("k1"), hole("k2"), hole("k3")}, t0);
  for (const auto& h : book.take_due(t0)) book.queue(h.uri());
  auto first = book.receive(2, t0);
  REQUIRE(first.size() == 2);
  CHECK(book.plan(first[0].receipt_handle)->objects[0].key == "k1");
  CHECK(book.plan(first[1].receipt_handle)->objects[0].key == "k2");
  auto rest = book.receive(2, t0);
  REQUIRE(rest.size() == 1);
  CHECK(book.plan(rest[0].receipt_handle)->objects[0].key == "k3");
}

namespace {

std::string collector_file(std::string_view ctsqs_section) {
  return std::string(R"({"inputs":{"sqs_collector":{"id":"1","services":{"aws_sqs_cloudtrail":{}},)"
                     R"("region":"us-east-1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}},)") +
         "\"ctsqs\":" + std::string(ctsqs_section) + "}";
}

}  // namespace

TEST_CASE("ctsqs.integrity.heal and heal_grace: parsed, defaulted, refused without a ledger or verify_digests") {
  Diagnostics d;
  auto ok = parse_collector_config(
      collector_file(R"({"ledger":"/tmp/l.db","integrity":{"verify_digests":true,"heal":true,"heal_grace":"90s"}})"),
      "c.json", d);
  INFO(d.message);
  REQUIRE(ok.has_value());
  CHECK(ok->integrity.heal);
  CHECK(ok->integrity.heal_grace == seconds(90));
  auto dflt = parse_collector_config(collector_file(R"({"ledger":"/tmp/l.db","integrity":{"verify_digests":true}})"),
                                     "c.json", d);
  REQUIRE(dflt.has_value());
  CHECK_FALSE(dflt->integrity.heal);
  CHECK(dflt->integrity.heal_grace == minutes(10));
  for (auto [section, want] : {
           std::pair<std::string_view, std::string_view>{R"({"integrity":{"verify_digests":true,"heal":true}})",
                                                         "ctsqs.integrity.heal: needs a delivery ledger"},
           {R"({"ledger":"/tmp/l.db","integrity":{"heal":true}})",
            "ctsqs.integrity.heal: needs ctsqs.integrity.verify_digests: true"},
           {R"({"ledger":"/tmp/l.db","integrity":{"verify_digests":true,"heal":"yes"}})", "ctsqs.integrity.heal"},
           {R"({"ledger":"/tmp/l.db","integrity":{"verify_digests":true,"heal":true,"heal_grace":"1.5s"}})",
            "ctsqs.integrity.heal_grace"}}) {
    Diagnostics e;
    auto bad = parse_collector_config(collector_file(section), "c.json", e);
    INFO(section);
    CHECK_FALSE(bad.has_value());
    CHECK(e.message.find(want) != std::string::npos);
  }
}

TEST_CASE("the heal's counters reach the snapshot, the Prometheus text and the summary") {
  Metrics m;
  m.holes_found = 4;
  m.holes_healed = 3;
  m.evidence_missing = 1;
  const auto s = m.snapshot();
  CHECK(s.holes_found == 4);
  CHECK(s.holes_healed == 3);
  CHECK(s.evidence_missing == 1);
  const auto text = to_prometheus(s, "c1");
  CHECK(text.find("ctsqs_holes_found_total{collector_id=\"c1\"} 4\n") != std::string::npos);
  CHECK(text.find("ctsqs_holes_healed_total{collector_id=\"c1\"} 3\n") != std::string::npos);
  CHECK(text.find("ctsqs_evidence_missing_total{collector_id=\"c1\"} 1\n") != std::string::npos);
  CHECK(format_summary(s, seconds(1)).find("heal: 4 holes found, 3 healed, 1 missing from the bucket") !=
        std::string::npos);
  CHECK(format_summary(Metrics{}.snapshot(), seconds(1)).find("heal:") == std::string::npos);
}

TEST_CASE("ctsqs.integrity.heal: an embedder's own ledger (AssemblyOptions::ledger) meets its need of a ledger") {
  Diagnostics d;
  ConfigParseOptions po;
  po.validate = false;
  auto cfg = parse_collector_config(collector_file(R"({"integrity":{"verify_digests":true,"heal":true}})"), "c.json",
                                    d, po);
  INFO(d.message);
  REQUIRE(cfg.has_value());
  auto needs_ledger = [](const std::vector<ConfigIssue>& issues) {
    return std::any_of(issues.begin(), issues.end(), [](const ConfigIssue& i) {
      return i.path == "ctsqs.integrity.heal" && i.message.find("needs a delivery ledger") != std::string::npos;
    });
  };
  CHECK(needs_ledger(validation_issues(*cfg)));
  CHECK_FALSE(needs_ledger(validation_issues(*cfg, nullptr, /*ledger_given=*/true)));
  Diagnostics v;
  CHECK(validate(*cfg, v, nullptr, true).has_value());
  // verify_digests is still required with the embedder's ledger.
  cfg->integrity.verify_digests = false;
  CHECK_FALSE(validate(*cfg, v, nullptr, true).has_value());
  CHECK(v.message.find("needs ctsqs.integrity.verify_digests") != std::string::npos);
}
