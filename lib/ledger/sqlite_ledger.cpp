// SqliteLedger: the ledger table in one SQLite file (WAL, synchronous=FULL, busy timeout),
// its schema check, and the async calls run on a thread of the ledger's own.
#include "ctsqs/ledger/sqlite_ledger.hpp"

#include "offload.hpp"

#include <boost/asio/thread_pool.hpp>

#include <sqlite3.h>

#include <mutex>

namespace ctsqs {

namespace {

using sys_clock = std::chrono::system_clock;

std::int64_t to_ms(sys_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
sys_clock::time_point from_ms(std::int64_t ms) {
  return sys_clock::time_point(std::chrono::duration_cast<sys_clock::duration>(std::chrono::milliseconds(ms)));
}

/// A prepared statement, finalized when it goes.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s); }
};

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS delivered ("
    " bucket TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " version_id TEXT NOT NULL DEFAULT '',"
    " etag TEXT NOT NULL DEFAULT '',"
    " sha256 TEXT NOT NULL DEFAULT '',"
    " events INTEGER NOT NULL DEFAULT 0,"
    " delivered_at INTEGER,"  // ms since the epoch; NULL: claimed, not delivered
    " collector_id TEXT NOT NULL DEFAULT '',"
    " claim_owner TEXT,"
    " claim_until INTEGER,"
    " PRIMARY KEY (bucket, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS delivered_at_idx ON delivered(delivered_at);";

/// Objects per SELECT (two host parameters each; SQLite allows 32766).
constexpr std::size_t kLookupChunk = 500;

}  // namespace

struct SqliteLedger::Impl {
  SqliteLedgerOptions options;
  sqlite3* db = nullptr;
  std::mutex mu;  // one call at a time (the async thread and synchronous callers)
  std::uint64_t records_since_prune = 0;
  boost::asio::thread_pool pool{1};

  ~Impl() {
    pool.join();
    if (db) sqlite3_close_v2(db);
  }

  sys_clock::time_point now() const { return options.clock ? options.clock() : sys_clock::now(); }

  error_code fail(Diagnostics& diag, std::string_view what, int rc) const {
    diag.clear();
    diag.message = "ledger " + options.path + ": " + std::string(what) + ": " +
                   (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      diag.message += " (another process held the file longer than the busy timeout of " +
                      std::to_string(options.busy_timeout.count()) + " ms)";
    return make_error_code(client_errc::io_error);
  }

  result<void> exec(const char* sql, Diagnostics& diag, std::string_view what) {
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return fail(diag, what, rc);
    return {};
  }

  result<void> prepare(Stmt& st, const std::string& sql, Diagnostics& diag) {
    int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st.s, nullptr);
    if (rc != SQLITE_OK) return fail(diag, "prepare", rc);
    return {};
  }

  static void bind_text(Stmt& st, int i, std::string_view v) {
    sqlite3_bind_text(st.s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  static std::string column_text(Stmt& st, int i) {
    auto* p = sqlite3_column_text(st.s, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st.s, i)))
             : std::string();
  }

  /// Runs `body` inside BEGIN IMMEDIATE ... COMMIT (rolled back when it fails).
  template <class F>
  result<void> write_transaction(Diagnostics& diag, std::string_view what, F&& body) {
    if (auto r = exec("BEGIN IMMEDIATE", diag, std::string(what) + ": begin"); !r) return r;
    auto r = body();
    if (!r) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return r;
    }
    if (auto c = exec("COMMIT", diag, std::string(what) + ": commit"); !c) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return c;
    }
    return {};
  }

  result<void> open(Diagnostics& diag) {
    int rc = sqlite3_open_v2(options.path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) return fail(diag, "cannot open", rc);
    sqlite3_extended_result_codes(db, 0);
    sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
    {
      Stmt st;
      if (auto r = prepare(st, "PRAGMA journal_mode=WAL", diag); !r) return r;
      rc = sqlite3_step(st.s);
      if (rc != SQLITE_ROW) return fail(diag, "journal_mode=WAL", rc);
      if (column_text(st, 0) != "wal") {
        diag.clear();
        diag.message = "ledger " + options.path + ": SQLite refused WAL mode (journal_mode is " + column_text(st, 0) +
                       "); the file must be on a local file system";
        return make_error_code(client_errc::io_error);
      }
    }
    if (auto r = exec("PRAGMA synchronous=FULL", diag, "synchronous=FULL"); !r) return r;
    return write_transaction(diag, "schema", [&]() -> result<void> {
      Stmt st;
      if (auto r = prepare(st, "PRAGMA user_version", diag); !r) return r;
      if (int s = sqlite3_step(st.s); s != SQLITE_ROW) return fail(diag, "user_version", s);
      const int version = sqlite3_column_int(st.s, 0);
      if (version == schema_version) return {};
      if (version > schema_version) {
        diag.clear();
        diag.message = "ledger " + options.path + ": schema version " + std::to_string(version) +
                       " is newer than this ctsqs knows (" + std::to_string(schema_version) +
                       "): a newer ctsqs wrote it; use that one";
        return make_error_code(client_errc::invalid_argument);
      }
      if (version == 0) {
        // A new file, or one that is not a ledger: refuse foreign tables.
        Stmt t;
        if (auto r = prepare(t, "SELECT count(*) FROM sqlite_master WHERE name <> 'delivered' AND name NOT LIKE "
                                "'sqlite_%' AND name <> 'delivered_at_idx'",
                             diag);
            !r)
          return r;
        if (int s = sqlite3_step(t.s); s != SQLITE_ROW) return fail(diag, "schema check", s);
        if (sqlite3_column_int(t.s, 0) != 0) {
          diag.clear();
          diag.message = "ledger " + options.path + ": the file is an SQLite database of something else (it has "
                         "tables other than the ledger's); give the ledger a file of its own";
          return make_error_code(client_errc::invalid_argument);
        }
      }
      if (auto r = exec(kSchema, diag, "create schema"); !r) return r;
      return exec(("PRAGMA user_version=" + std::to_string(schema_version)).c_str(), diag, "set user_version");
    });
  }

  result<std::vector<std::optional<LedgerRecord>>> lookup(const std::vector<ObjectRef>& objects, Diagnostics& diag) {
    std::vector<std::optional<LedgerRecord>> out(objects.size());
    std::lock_guard lk(mu);
    for (std::size_t base = 0; base < objects.size(); base += kLookupChunk) {
      const std::size_t n = std::min(kLookupChunk, objects.size() - base);
      std::string sql =
          "SELECT bucket, key, version_id, etag, sha256, events, delivered_at, collector_id FROM delivered "
          "WHERE delivered_at IS NOT NULL AND (bucket, key) IN (VALUES ";
      for (std::size_t i = 0; i < n; ++i) sql += i ? ",(?,?)" : "(?,?)";
      sql += ")";
      Stmt st;
      if (auto r = prepare(st, sql, diag); !r) return r.error();
      for (std::size_t i = 0; i < n; ++i) {
        bind_text(st, static_cast<int>(2 * i + 1), objects[base + i].bucket);
        bind_text(st, static_cast<int>(2 * i + 2), objects[base + i].key);
      }
      int rc;
      while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
        LedgerRecord r;
        r.bucket = column_text(st, 0);
        r.key = column_text(st, 1);
        r.version_id = column_text(st, 2);
        r.etag = column_text(st, 3);
        r.sha256 = column_text(st, 4);
        r.events = static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 5));
        r.delivered_at = from_ms(sqlite3_column_int64(st.s, 6));
        r.collector_id = column_text(st, 7);
        for (std::size_t i = 0; i < n; ++i)
          if (objects[base + i].bucket == r.bucket && objects[base + i].key == r.key) out[base + i] = r;
      }
      if (rc != SQLITE_DONE) return fail(diag, "lookup", rc);
    }
    return out;
  }

  result<void> record(const std::vector<LedgerRecord>& records, Diagnostics& diag) {
    if (records.empty()) return {};
    std::lock_guard lk(mu);
    auto r = write_transaction(diag, "record", [&]() -> result<void> {
      Stmt st;
      if (auto p = prepare(st,
                           "INSERT INTO delivered (bucket, key, version_id, etag, sha256, events, delivered_at, "
                           "collector_id, claim_owner, claim_until) VALUES (?,?,?,?,?,?,?,?,NULL,NULL) "
                           "ON CONFLICT (bucket, key) DO UPDATE SET version_id=excluded.version_id, "
                           "etag=excluded.etag, sha256=excluded.sha256, events=excluded.events, "
                           "delivered_at=excluded.delivered_at, collector_id=excluded.collector_id, "
                           "claim_owner=NULL, claim_until=NULL",
                           diag);
          !p)
        return p;
      for (const auto& rec : records) {
        sqlite3_reset(st.s);
        bind_text(st, 1, rec.bucket);
        bind_text(st, 2, rec.key);
        bind_text(st, 3, rec.version_id);
        bind_text(st, 4, unquoted_etag(rec.etag));
        bind_text(st, 5, rec.sha256);
        sqlite3_bind_int64(st.s, 6, static_cast<sqlite3_int64>(rec.events));
        sqlite3_bind_int64(st.s, 7, to_ms(rec.delivered_at));
        bind_text(st, 8, rec.collector_id);
        if (int rc = sqlite3_step(st.s); rc != SQLITE_DONE) return fail(diag, "record", rc);
      }
      return {};
    });
    if (!r) return r;
    records_since_prune += records.size();
    if (records_since_prune >= 1000) {
      records_since_prune = 0;
      Diagnostics ignored;  // pruning is housekeeping: a busy file only delays it
      (void)prune_locked(ignored);
    }
    return {};
  }

  result<ClaimOutcome> claim(const LedgerClaim& c, Diagnostics& diag) {
    std::lock_guard lk(mu);
    ClaimOutcome out = ClaimOutcome::claimed;
    auto r = write_transaction(diag, "claim", [&]() -> result<void> {
      Stmt sel;
      if (auto p = prepare(sel, "SELECT delivered_at, claim_owner, claim_until FROM delivered WHERE bucket=? AND key=?",
                           diag);
          !p)
        return p;
      bind_text(sel, 1, c.bucket);
      bind_text(sel, 2, c.key);
      int rc = sqlite3_step(sel.s);
      if (rc == SQLITE_ROW) {
        const bool delivered = sqlite3_column_type(sel.s, 0) != SQLITE_NULL;
        const std::string owner = column_text(sel, 1);
        const std::int64_t until = sqlite3_column_int64(sel.s, 2);
        if (delivered) {
          out = ClaimOutcome::already_delivered;
          return {};
        }
        if (!owner.empty() && owner != c.claimant && until > to_ms(c.now)) {
          out = ClaimOutcome::held_by_other;
          return {};
        }
      } else if (rc != SQLITE_DONE) {
        return fail(diag, "claim", rc);
      }
      Stmt up;
      if (auto p = prepare(up,
                           "INSERT INTO delivered (bucket, key, delivered_at, claim_owner, claim_until) "
                           "VALUES (?,?,NULL,?,?) ON CONFLICT (bucket, key) DO UPDATE SET "
                           "claim_owner=excluded.claim_owner, claim_until=excluded.claim_until",
                           diag);
          !p)
        return p;
      bind_text(up, 1, c.bucket);
      bind_text(up, 2, c.key);
      bind_text(up, 3, c.claimant);
      sqlite3_bind_int64(up.s, 4, to_ms(c.until));
      if (int s = sqlite3_step(up.s); s != SQLITE_DONE) return fail(diag, "claim", s);
      return {};
    });
    if (!r) return r.error();
    return out;
  }

  result<std::uint64_t> prune_locked(Diagnostics& diag) {
    const std::int64_t cutoff = to_ms(now() - options.retention);
    std::uint64_t n = 0;
    auto r = write_transaction(diag, "prune", [&]() -> result<void> {
      Stmt st;
      if (auto p = prepare(st,
                           "DELETE FROM delivered WHERE (delivered_at IS NOT NULL AND delivered_at < ?1) OR "
                           "(delivered_at IS NULL AND (claim_until IS NULL OR claim_until < ?1))",
                           diag);
          !p)
        return p;
      sqlite3_bind_int64(st.s, 1, cutoff);
      if (int rc = sqlite3_step(st.s); rc != SQLITE_DONE) return fail(diag, "prune", rc);
      n = static_cast<std::uint64_t>(sqlite3_changes(db));
      return {};
    });
    if (!r) return r.error();
    return n;
  }
};

result<std::unique_ptr<SqliteLedger>> SqliteLedger::open(SqliteLedgerOptions options, Diagnostics& diag) {
  if (options.path.empty()) {
    diag.clear();
    diag.message = "ledger: no file path given";
    return make_error_code(client_errc::invalid_argument);
  }
  if (options.retention.count() <= 0) {
    diag.clear();
    diag.message = "ledger " + options.path + ": retention must be positive";
    return make_error_code(client_errc::invalid_argument);
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (auto r = impl->open(diag); !r) return r.error();
  {
    std::lock_guard lk(impl->mu);
    Diagnostics ignored;
    (void)impl->prune_locked(ignored);
  }
  return std::unique_ptr<SqliteLedger>(new SqliteLedger(std::move(impl)));
}

SqliteLedger::SqliteLedger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteLedger::~SqliteLedger() = default;

std::string SqliteLedger::describe() const { return "sqlite:" + impl_->options.path; }

result<std::vector<std::optional<LedgerRecord>>> SqliteLedger::lookup(const std::vector<ObjectRef>& objects,
                                                                      Diagnostics& diag) {
  return impl_->lookup(objects, diag);
}
result<void> SqliteLedger::record(const std::vector<LedgerRecord>& records, Diagnostics& diag) {
  return impl_->record(records, diag);
}
result<ClaimOutcome> SqliteLedger::claim(const LedgerClaim& c, Diagnostics& diag) { return impl_->claim(c, diag); }
result<std::uint64_t> SqliteLedger::prune(Diagnostics& diag) {
  std::lock_guard lk(impl_->mu);
  return impl_->prune_locked(diag);
}
result<std::uint64_t> SqliteLedger::count(Diagnostics& diag) {
  std::lock_guard lk(impl_->mu);
  Stmt st;
  if (auto r = impl_->prepare(st, "SELECT count(*) FROM delivered WHERE delivered_at IS NOT NULL", diag); !r)
    return r.error();
  if (int rc = sqlite3_step(st.s); rc != SQLITE_ROW) return impl_->fail(diag, "count", rc);
  return static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 0));
}

boost::asio::awaitable<result<std::vector<std::optional<LedgerRecord>>>> SqliteLedger::async_lookup(
    std::vector<ObjectRef> objects, Diagnostics& diag) {
  Impl* impl = impl_.get();
  Diagnostics* d = &diag;
  std::function<result<std::vector<std::optional<LedgerRecord>>>()> work = [impl, d, objects = std::move(objects)] {
    return impl->lookup(objects, *d);
  };
  co_return co_await detail::offload(impl->pool, std::move(work));
}

boost::asio::awaitable<result<void>> SqliteLedger::async_record(std::vector<LedgerRecord> records,
                                                                Diagnostics& diag) {
  Impl* impl = impl_.get();
  Diagnostics* d = &diag;
  std::function<result<void>()> work = [impl, d, records = std::move(records)] { return impl->record(records, *d); };
  co_return co_await detail::offload(impl->pool, std::move(work));
}

boost::asio::awaitable<result<ClaimOutcome>> SqliteLedger::async_claim(LedgerClaim claim, Diagnostics& diag) {
  Impl* impl = impl_.get();
  Diagnostics* d = &diag;
  std::function<result<ClaimOutcome>()> work = [impl, d, claim = std::move(claim)] { return impl->claim(claim, *d); };
  co_return co_await detail::offload(impl->pool, std::move(work));
}

}  // namespace ctsqs
