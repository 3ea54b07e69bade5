// SqliteLedger: the delivery ledger in one SQLite file (WAL, synchronous=FULL), shared by the
// processes of one host.
#pragma once

#include "ctsqs/environment.hpp"
#include "ctsqs/ledger/ledger.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace ctsqs {

/// Settings of a SqliteLedger.
struct SqliteLedgerOptions {
  std::string path;  ///< the database file (created with its directory's permissions when missing)
  /// Records older than this are pruned (when the file is opened, then every 1,000 records).
  std::chrono::seconds retention = default_ledger_retention;
  /// How long a write waits for another process's transaction before failing (SQLITE_BUSY).
  std::chrono::milliseconds busy_timeout{15000};
  /// The clock for `delivered_at` pruning; unset: the system clock.
  WallClock clock;
};

/// The ledger in a SQLite database file.
///
/// Durability: journal_mode=WAL with synchronous=FULL, so a call that returned has its
/// transaction fsynced to the WAL: it survives kill -9 of the process and a power loss (the OS
/// and disk honouring fsync). Several processes of one host may open the same file: writers wait
/// up to `busy_timeout` for each other; write transactions begin IMMEDIATE so that wait applies.
/// Not for a network file system (SQLite's WAL needs shared memory on one host).
///
/// Schema: one table `delivered` keyed by (bucket, key); the file's `user_version` holds the
/// schema version (1). A file with a newer version is refused, naming both.
///
/// The async calls run on a thread of the ledger's own, so an fsync never stalls the caller's
/// event loop; the synchronous ones run on the caller's thread. All are serialised.
class SqliteLedger final : public Ledger {
 public:
  /// The schema version this build writes and reads.
  static constexpr int schema_version = 1;

  /// Opens (or creates) the file and checks or creates its schema. Errors (io_error /
  /// invalid_argument) name the file and what SQLite said.
  static result<std::unique_ptr<SqliteLedger>> open(SqliteLedgerOptions options, Diagnostics& diag);
  ~SqliteLedger() override;
  SqliteLedger(const SqliteLedger&) = delete;
  SqliteLedger& operator=(const SqliteLedger&) = delete;

  std::string describe() const override;
  boost::asio::awaitable<result<std::vector<std::optional<LedgerRecord>>>> async_lookup(
      std::vector<ObjectRef> objects, Diagnostics& diag) override;
  boost::asio::awaitable<result<void>> async_record(std::vector<LedgerRecord> records, Diagnostics& diag) override;
  boost::asio::awaitable<result<ClaimOutcome>> async_claim(LedgerClaim claim, Diagnostics& diag) override;

  /// Synchronous forms of the calls above (tools, tests).
  result<std::vector<std::optional<LedgerRecord>>> lookup(const std::vector<ObjectRef>& objects, Diagnostics& diag);
  result<void> record(const std::vector<LedgerRecord>& records, Diagnostics& diag);
  result<ClaimOutcome> claim(const LedgerClaim& claim, Diagnostics& diag);
  /// Deletes records delivered before `now - retention` (and lapsed claims); how many went.
  result<std::uint64_t> prune(Diagnostics& diag);
  /// Number of delivered records in the file.
  result<std::uint64_t> count(Diagnostics& diag);

  struct Impl;

 private:
  explicit SqliteLedger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctsqs
