// Unit tests of SqliteLedger on temporary files: schema, two connections, the async calls, a
// writer killed with SIGKILL in the middle of its writes, retention.
#include "ctsqs/ledger/sqlite_ledger.hpp"

#include "unit/catch_result.hpp"
#include "unit/ledger/ledger_test_util.hpp"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

using namespace ctsqs;
using ctsqs::test::run_awaitable;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ctsqs-ledger-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

LedgerRecord rec(std::string key, std::string etag = "e", std::uint64_t events = 1) {
  LedgerRecord r;
  r.bucket = "bkt";
  r.key = std::move(key);
  r.etag = std::move(etag);
  r.sha256 = std::string(64, 'a');
  r.events = events;
  r.delivered_at = std::chrono::system_clock::now();
  r.collector_id = "c1";
  return r;
}
ObjectRef obj(std::string key) {
  ObjectRef o;
  o.bucket = "bkt";
  o.key = std::move(key);
  return o;
}
std::unique_ptr<SqliteLedger> open_ledger(const fs::path& p) {
  Diagnostics d;
  SqliteLedgerOptions o;
  o.path = p.string();
  auto l = SqliteLedger::open(o, d);
  INFO(d.message);
  REQUIRE(l);
  return std::move(*l);
}

}  // namespace

TEST_CASE("SqliteLedger: records survive reopening, WAL mode, schema version") {
  TempDir dir;
  const auto file = dir.path / "ledger.db";
  {
    auto l = open_ledger(file);
    Diagnostics d;
    REQUIRE(l->record({rec("AWSLogs/1.json.gz", "e1", 7), rec("AWSLogs/2.json.gz", "e2", 9)}, d));
  }
  auto l = open_ledger(file);
  Diagnostics d;
  auto found = l->lookup({obj("AWSLogs/2.json.gz"), obj("missing"), obj("AWSLogs/1.json.gz")}, d);
  REQUIRE(found);
  REQUIRE((*found)[0]);
  CHECK((*found)[0]->etag == "e2");
  CHECK((*found)[0]->events == 9);
  CHECK((*found)[0]->collector_id == "c1");
  CHECK((*found)[0]->sha256 == std::string(64, 'a'));
  CHECK_FALSE((*found)[1]);
  CHECK((*found)[2]->events == 7);
  CHECK(l->count(d).value() == 2);

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.string().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == SqliteLedger::schema_version);
  sqlite3_finalize(st);
  // A newer schema is refused, naming both versions.
  REQUIRE(sqlite3_exec(db, "PRAGMA user_version=7", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  l.reset();
  SqliteLedgerOptions o;
  o.path = file.string();
  auto refused = SqliteLedger::open(o, d);
  REQUIRE_FALSE(refused);
  CHECK(d.message.find("schema version 7") != std::string::npos);
  CHECK(d.message.find(file.string()) != std::string::npos);
}

TEST_CASE("SqliteLedger: a database of something else, or a directory, is refused with its name") {
  TempDir dir;
  const auto file = dir.path / "other.db";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.string().c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  Diagnostics d;
  SqliteLedgerOptions o;
  o.path = file.string();
  REQUIRE_FALSE(SqliteLedger::open(o, d));
  CHECK(d.message.find("something else") != std::string::npos);
  o.path = (dir.path / "no" / "such" / "dir.db").string();
  REQUIRE_FALSE(SqliteLedger::open(o, d));
  CHECK(d.message.find(o.path) != std::string::npos);
}

TEST_CASE("SqliteLedger: two connections (as two processes) see each other's records and write concurrently") {
  TempDir dir;
  const auto file = dir.path / "ledger.db";
  auto a = open_ledger(file);
  auto b = open_ledger(file);
  Diagnostics d;
  REQUIRE(a->record({rec("k1")}, d));
  auto seen = b->lookup({obj("k1")}, d);
  REQUIRE(seen);
  CHECK((*seen)[0]);
  // Both write 200 transactions at once: the busy timeout makes them wait, none fails.
  auto writer = [](SqliteLedger* l, std::string prefix, bool* ok) {
    Diagnostics dd;
    *ok = true;
    for (int i = 0; i < 200; ++i)
      if (!l->record({rec(prefix + std::to_string(i))}, dd)) *ok = false;
  };
  bool ok_a = false, ok_b = false;
  std::thread ta(writer, a.get(), "a/", &ok_a), tb(writer, b.get(), "b/", &ok_b);
  ta.join();
  tb.join();
  CHECK(ok_a);
  CHECK(ok_b);
  CHECK(a->count(d).value() == 401);
  // Claims across connections: only one claimant wins.
  const auto now = std::chrono::system_clock::now();
  CHECK(a->claim({"bkt", "hole", "A", now, now + std::chrono::minutes(1)}, d).value() == ClaimOutcome::claimed);
  CHECK(b->claim({"bkt", "hole", "B", now, now + std::chrono::minutes(1)}, d).value() == ClaimOutcome::held_by_other);
  CHECK(b->claim({"bkt", "k1", "B", now, now + std::chrono::minutes(1)}, d).value() == ClaimOutcome::already_delivered);
  CHECK(b->lookup({obj("hole")}, d).value()[0] == std::nullopt);
}

TEST_CASE("SqliteLedger: the async calls run off the caller's thread and complete on its executor") {
  TempDir dir;
  auto l = open_ledger(dir.path / "ledger.db");
  Diagnostics d;
  REQUIRE(run_awaitable(l->async_record({rec("x", "e1"), rec("y", "e2")}, d)));
  auto found = run_awaitable(l->async_lookup({obj("y"), obj("x"), obj("z")}, d));
  REQUIRE(found);
  CHECK((*found)[0]->etag == "e2");
  CHECK((*found)[1]->etag == "e1");
  CHECK_FALSE((*found)[2]);
  const auto now = std::chrono::system_clock::now();
  CHECK(run_awaitable(l->async_claim({"bkt", "x", "A", now, now}, d)).value() == ClaimOutcome::already_delivered);
}

TEST_CASE("SqliteLedger: a writer killed with SIGKILL mid-write loses no committed record and leaves a sound file") {
  TempDir dir;
  const auto file = dir.path / "ledger.db";
  { open_ledger(file); }  // schema first
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child: commit record after record, reporting each commit's number once it returned.
    ::close(fds[0]);
    Diagnostics d;
    SqliteLedgerOptions o;
    o.path = file.string();
    auto l = SqliteLedger::open(o, d);
    if (!l) ::_exit(3);
    for (std::uint32_t i = 1;; ++i) {
      std::vector<LedgerRecord> batch;
      for (int j = 0; j < 20; ++j)
        batch.push_back(rec(std::string("k").append(std::to_string(i)).append("/").append(std::to_string(j))));
      if (!(*l)->record(batch, d)) ::_exit(4);
      if (::write(fds[1], &i, sizeof i) != sizeof i) ::_exit(5);
    }
  }
  ::close(fds[1]);
  std::uint32_t last = 0, n = 0;
  // Let it commit a while, then kill it wherever it is (most of its time is inside a write).
  while (last < 150 && ::read(fds[0], &n, sizeof n) == sizeof n) last = n;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  while (::read(fds[0], &n, sizeof n) == sizeof n) last = n;  // commits reported before the kill
  ::close(fds[0]);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  auto l = open_ledger(file);
  Diagnostics d;
  const auto count = l->count(d).value();
  INFO("committed batches reported: " << last << ", records found: " << count);
  CHECK(count >= static_cast<std::uint64_t>(last) * 20);
  CHECK(count % 20 == 0);  // a transaction is all or nothing
  CHECK(count <= (static_cast<std::uint64_t>(last) + 1) * 20);
  std::vector<ObjectRef> probe;
  for (std::uint32_t i = 1; i <= last; i += 7) probe.push_back(obj(std::string("k").append(std::to_string(i)).append("/19")));
  auto found = l->lookup(probe, d).value();
  for (auto& f : found) CHECK(f);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.string().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("SqliteLedger: records older than the retention are pruned") {
  TempDir dir;
  auto now = std::chrono::system_clock::now();
  SqliteLedgerOptions o;
  o.path = (dir.path / "ledger.db").string();
  o.retention = std::chrono::hours(24);
  o.clock = [&now] { return now; };
  Diagnostics d;
  auto l = SqliteLedger::open(o, d).value();
  auto old = rec("old");
  old.delivered_at = now - std::chrono::hours(25);
  REQUIRE(l->record({old, rec("new")}, d));
  CHECK(l->prune(d).value() == 1);
  auto found = l->lookup({obj("old"), obj("new")}, d).value();
  CHECK_FALSE(found[0]);
  CHECK(found[1]);
}
