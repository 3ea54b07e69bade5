// Ledger: the collector's memory of the objects it delivered (one record per object), looked up
// per received batch and written after the sink's flush, behind one interface for every back end.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/collector/object_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// One delivered object. Identity is (bucket, key); `version_id` and `etag` say which content of
/// that key was delivered (an overwritten object has another ETag or version).
struct LedgerRecord {
  std::string bucket;
  std::string key;         ///< as stored in S3 (URL-decoded)
  std::string version_id;  ///< S3 version id, "" when the notification gave none
  std::string etag;        ///< S3 ETag without quotes, "" when unknown
  std::string sha256;      ///< lower-case hex SHA-256 of the uncompressed content, "" when unknown
  std::uint64_t events = 0;  ///< events delivered from it
  std::chrono::system_clock::time_point delivered_at{};  ///< when its flush succeeded
  std::string collector_id;  ///< the collector that delivered it
};

/// How an announced object compares with the ledger.
enum class LedgerMatch {
  absent,   ///< never delivered (or its record expired)
  same,     ///< delivered with the same version id / ETag (or neither side names one)
  changed,  ///< delivered, but the announced version id / ETag differs: an overwritten object
};

/// The pure comparison of an announced object with its record: version ids decide when both
/// name one, else ETags when both name one (quotes ignored), else the key alone says `same`
/// (CloudTrail's SNS notification names keys only; CloudTrail never rewrites a log file).
LedgerMatch match_record(const ObjectRef& announced, const std::optional<LedgerRecord>& record) noexcept;

/// `etag` without surrounding double quotes (S3 sends them in headers, not in notifications).
std::string_view unquoted_etag(std::string_view etag) noexcept;

/// What a claim (LedgerClaim) found.
enum class ClaimOutcome {
  claimed,            ///< the caller holds the claim until it expires or the object is recorded
  already_delivered,  ///< a record exists: nothing to do
  held_by_other,      ///< another claimant holds an unexpired claim
};

/// A claim on an object that is to be delivered outside its notification (healing a hole a
/// digest showed): a conditional write, so that of several collectors sharing the ledger only
/// one delivers it. The claim lapses at `until` (a claimant that died frees it), and a record of
/// the object supersedes it.
struct LedgerClaim {
  std::string bucket;
  std::string key;
  std::string claimant;  ///< the claiming collector's id
  std::chrono::system_clock::time_point now{};    ///< the caller's clock (claims of others expire by it)
  std::chrono::system_clock::time_point until{};  ///< when the claim lapses
};

/// The ledger interface. Implementations: make_memory_ledger() (tests), SqliteLedger (one file,
/// one host), DynamoDbLedger (a table, a fleet).
///
/// Thread safety: the awaitables of one ledger are awaited on the executor that runs the
/// collector; implementations serialise their own work. The ledger must outlive its calls.
class Ledger {
 public:
  virtual ~Ledger() = default;

  /// "sqlite:/var/lib/ctsqs/ledger.db", "dynamodb://table" — for logs and check-config.
  virtual std::string describe() const = 0;

  /// The records of `objects` (one query for the whole batch), in the same order; nullopt for
  /// an object without a record. Duplicates in `objects` are allowed.
  virtual boost::asio::awaitable<result<std::vector<std::optional<LedgerRecord>>>> async_lookup(
      std::vector<ObjectRef> objects, Diagnostics& diag) = 0;

  /// Writes (inserts or replaces) the records; returns once they are durable (a committed
  /// transaction, an acknowledged write). Several records go in as few calls as the back end allows.
  virtual boost::asio::awaitable<result<void>> async_record(std::vector<LedgerRecord> records,
                                                            Diagnostics& diag) = 0;

  /// Claims one object for delivery outside its notification (conditional write).
  virtual boost::asio::awaitable<result<ClaimOutcome>> async_claim(LedgerClaim claim, Diagnostics& diag) = 0;
};

/// A ledger in memory (tests, dry runs): nothing survives the process. Thread-safe.
std::unique_ptr<Ledger> make_memory_ledger();

/// Default retention of records: 35 days (a month of digests plus margin).
inline constexpr std::chrono::seconds default_ledger_retention{35 * 24 * 3600};

/// Where a ledger lives, as the collector file's `ctsqs.ledger` or `--ledger` says it.
struct LedgerLocation {
  enum class Kind { sqlite, dynamodb } kind = Kind::sqlite;
  std::string path;   ///< sqlite: the database file
  std::string table;  ///< dynamodb: the table name
};

/// Parses "dynamodb://TABLE" (3-255 of A-Z a-z 0-9 _ . -) or a file path (anything else that is
/// not empty and holds no NUL; a "sqlite:" prefix is allowed). Errors name `field`.
result<LedgerLocation> parse_ledger_location(std::string_view text, std::string_view field, Diagnostics& diag);

}  // namespace ctsqs
