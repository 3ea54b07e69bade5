// Private to the collector: its use of the delivery ledger — one lookup per received batch, the
// skip decision per object, and group-committed records after the flush.
#pragma once

#include "collector_async.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/ledger/ledger.hpp"
#include "ctsqs/collector/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::detail {

/// The collector's side of a Ledger. Runs on the collector's executor (one thread); the ledger
/// must outlive it. Failures of the ledger are logged and counted (`ledger_errors`), never the
/// messages' failures: delivery goes on as without a ledger.
class LedgerHook : public std::enable_shared_from_this<LedgerHook> {
 public:
  /// What the receiver learned of a message before its worker starts.
  struct Prepared {
    std::optional<result<MessagePlan>> plan;  ///< the message's plan (made once, here)
    Diagnostics plan_diag;
    std::vector<std::optional<LedgerRecord>> records;  ///< per plan object: its record, if any
  };

  LedgerHook(asio::any_io_executor ex, Ledger& ledger, const MessagePlanner& planner, Metrics& metrics,
             std::function<void(std::string_view)> log);

  /// Plans the batch's messages and looks every object they announce up in one ledger call. A
  /// lookup that fails leaves the records empty (everything is delivered).
  asio::awaitable<std::vector<std::shared_ptr<Prepared>>> prepare(const std::vector<SqsMessage>& msgs);

  /// Whether object `index` of the message was delivered before with the same version/ETag (then
  /// it is counted in `duplicates_skipped` and must not be fetched). An object delivered before
  /// with another ETag or version is logged as overwritten (and delivered again: false).
  bool delivered_before(const ObjectRef& object, const Prepared* pre, std::size_t index, const std::string& message_id);

  /// The record of an object delivered now (its time is set when it is written).
  static LedgerRecord record_of(const ObjectRef& object, std::uint64_t events, const std::string& collector_id,
                                std::string sha256 = {});

  /// Records the objects of a message after its flush and returns once they are durable.
  /// Messages finishing while a ledger call runs share the next one (group commit). A failure is
  /// logged; the message is deleted anyway (its events were delivered).
  asio::awaitable<void> record(std::vector<LedgerRecord> records, std::string message_id);

 private:
  struct RecordBatch {
    std::vector<LedgerRecord> records;
    std::vector<std::string> message_ids;
    bool done = false;
  };
  asio::awaitable<void> recorder();

  asio::any_io_executor ex_;
  Ledger& ledger_;
  const MessagePlanner& planner_;
  Metrics& metrics_;
  std::function<void(std::string_view)> log_;
  std::shared_ptr<RecordBatch> pending_;  // filled while a ledger call runs
  bool recording_ = false;
  AsyncEvent recorded_;
};

}  // namespace ctsqs::detail
