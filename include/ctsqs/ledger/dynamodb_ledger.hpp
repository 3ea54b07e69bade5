// DynamoDbLedger: the delivery ledger in an Amazon DynamoDB table shared by a fleet of collectors
// (batched reads, batched writes, conditional claims, TTL), and `ledger init` (create the table).
#pragma once

#include "ctsqs/environment.hpp"
#include "ctsqs/ledger/ledger.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ctsqs {

class AwsClient;

/// Settings of a DynamoDbLedger.
struct DynamoDbLedgerOptions {
  std::string table;  ///< the table name
  /// Items expire (the TTL attribute `expires_at`) this long after they were written.
  std::chrono::seconds retention = default_ledger_retention;
  /// The clock for TTLs and claims; unset: the system clock.
  WallClock clock;
};

/// Requests a DynamoDbLedger sent (for the cost figures: each is one request to DynamoDB).
struct DynamoDbLedgerStats {
  std::uint64_t batch_get_item = 0;
  std::uint64_t batch_write_item = 0;
  std::uint64_t update_item = 0;
  std::uint64_t items_read = 0;     ///< keys asked for (each a read of up to 4 KB)
  std::uint64_t items_written = 0;  ///< items put or updated (each a write of up to 1 KB)
};

/// The ledger in a DynamoDB table (hash key `pk`, see dynamodb_protocol.hpp), through the
/// project's AwsClient: SigV4 service `dynamodb`, its retries, proxies and credentials; the
/// endpoint from AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, else dynamodb.<region>.<suffix>.
///
/// Lookups are BatchGetItem with ConsistentRead (100 keys a call); records are BatchWriteItem
/// (25 a call); keys or items DynamoDB leaves unprocessed are sent again with a backoff. Claims
/// are conditional UpdateItems. The client must outlive the ledger.
class DynamoDbLedger final : public Ledger {
 public:
  DynamoDbLedger(AwsClient& client, DynamoDbLedgerOptions options);
  ~DynamoDbLedger() override;

  std::string describe() const override;
  boost::asio::awaitable<result<std::vector<std::optional<LedgerRecord>>>> async_lookup(
      std::vector<ObjectRef> objects, Diagnostics& diag) override;
  boost::asio::awaitable<result<void>> async_record(std::vector<LedgerRecord> records, Diagnostics& diag) override;
  boost::asio::awaitable<result<ClaimOutcome>> async_claim(LedgerClaim claim, Diagnostics& diag) override;

  DynamoDbLedgerStats stats() const noexcept;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

/// What `ctsqs ledger init` did or found.
struct LedgerInitReport {
  bool created = false;             ///< the table did not exist and was created
  bool ttl_enabled = false;         ///< TTL was turned on now (false: it already was, or could not be)
  std::string table_status;         ///< "ACTIVE" at the end when all went well
  std::string billing_mode;         ///< as DynamoDB reports it
  /// IAM actions answered AccessDenied, e.g. "dynamodb:CreateTable": the caller lacks them.
  std::vector<std::string> missing_permissions;
  std::vector<std::string> steps;   ///< one line per step, for the CLI to print
};

/// Makes the table ready for a DynamoDbLedger: DescribeTable; CreateTable (hash key `pk`,
/// PAY_PER_REQUEST) when it does not exist, then waits until it is ACTIVE; DescribeTimeToLive
/// and UpdateTimeToLive on `expires_at` when TTL is off; then probes the collector's own calls
/// (BatchGetItem, BatchWriteItem of an item that expires at once, a conditional UpdateItem that
/// cannot apply). Every AccessDenied is mapped to its IAM action in `missing_permissions` and the
/// steps go on where they can: the table is ready only when `missing_permissions` is empty.
/// Errors: a table whose key is not `pk` (S), or whose TTL is on another attribute
/// (invalid_argument); any other failure of a step (diag names it).
boost::asio::awaitable<result<LedgerInitReport>> async_init_dynamodb_ledger(AwsClient& client,
                                                                            DynamoDbLedgerOptions options,
                                                                            Diagnostics& diag);

}  // namespace ctsqs
