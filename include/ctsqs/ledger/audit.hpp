// LedgerAudit: which log files CloudTrail's digests list over a range that the delivery ledger
// never recorded ("did our SIEM get every event CloudTrail wrote last month?"), and on request
// their delivery now through the collector's own pipeline (what `ctsqs audit` runs).
#pragma once

#include "ctsqs/collector/collector.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/collector/config.hpp"
#include "ctsqs/detail/completion.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/integrity/trail_verifier.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// One finding of an audit, about a log file a valid digest lists.
struct AuditRecord {
  enum class Type {
    undelivered,  ///< the ledger has no record of it (after a heal: the heal did not deliver it)
    healed,       ///< it was undelivered, and the heal delivered and recorded it
  };
  Type type = Type::undelivered;
  std::string uri;     ///< "s3://bucket/key" of the log file
  std::string digest;  ///< "s3://bucket/key" of the digest that lists it
  std::string reason;  ///< undelivered after a heal: why (the object's failure when known)
};

/// The record as one line of JSON, in the style of verify's report:
/// `{"type":"undelivered","uri":"s3://...","digest":"s3://..."}` (no trailing newline).
std::string to_json_line(const AuditRecord& record);

/// What to audit.
struct AuditOptions {
  /// The bucket, prefix, accounts, regions and range (as `ctsqs verify` takes them), records of
  /// the digests (verify.on_record) and the log; digests_only is set by the audit.
  integrity::VerifyOptions verify;
  /// Deliver the undelivered files now (through build_collector over an in-memory queue of
  /// their S3 locations: the file's outputs, decoders and ledger), then look them up again.
  bool heal = false;
  /// heal: sinks of the embedder's, hostname, log (drain and the queue are set by the audit).
  AssemblyOptions assembly;
  /// heal: reads of one object before it is given up.
  int max_receives = 3;
  /// heal: each file is claimed in the ledger (Ledger::async_claim) for this long before it is
  /// delivered; a file another claimant holds is left to it (reported undelivered, with why).
  std::chrono::seconds claim_for{1800};
  /// Every undelivered file as found, and after a heal each one's outcome (I/O thread).
  std::function<void(const AuditRecord&)> on_record;
};

/// How an audit ended.
struct AuditResult {
  /// The digests' verification (counts of valid / invalid / missing digests, gaps, errors).
  integrity::VerifyResult verify;
  std::uint64_t listed = 0;       ///< log files the valid digests list
  std::uint64_t undelivered = 0;  ///< of them, without a ledger record (before any heal)
  std::uint64_t healed = 0;       ///< heal: delivered and recorded now
  std::uint64_t remaining = 0;    ///< without a record at the end (== undelivered without heal)
  std::uint64_t lookups = 0;      ///< ledger lookups made (one per digest, and again after a heal)
  /// Ledger lookups that failed: the files they concern are not proven either way.
  std::vector<std::string> errors;
  bool heal_ran = false;
  CollectorResult heal_result;    ///< heal: how the delivery ended
  /// Every digest valid, every listed file recorded in the ledger, nothing failed.
  bool clean() const noexcept { return verify.clean() && errors.empty() && remaining == 0; }
};

/// The audit: a TrailVerifier in digests-only mode (digests listed, fetched, checked, chains
/// walked; no log file fetched), then one batched ledger lookup per valid digest for the files it
/// lists. Built from a collector file whose `ctsqs.ledger` names the ledger (required). Runs on
/// the executor it was built with (a single-threaded io_context).
class LedgerAudit {
 public:
  ~LedgerAudit();
  LedgerAudit(const LedgerAudit&) = delete;
  LedgerAudit& operator=(const LedgerAudit&) = delete;

  /// Validates and builds; errors (client_errc::invalid_argument) name the setting or flag.
  static result<std::unique_ptr<LedgerAudit>> create(CollectorConfig config, boost::asio::any_io_executor executor,
                                                     AuditOptions options, Diagnostics& diag);

  /// Audits (and heals); completes with `void(error_code, AuditResult)` through any completion
  /// token. The error code: the heal's `heal_result.sink_error`, else its `receive_error`, else
  /// `asio::error::operation_aborted` when stopped through the token's cancellation slot, else
  /// success — what the audit found (undelivered files, invalid digests, failed lookups) is the
  /// result (`AuditResult::clean()`). Cancellation: terminal or partial is request_stop();
  /// total alone is ignored. The LedgerAudit must outlive the operation.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(error_code, AuditResult)) CompletionToken>
  auto async_run(CompletionToken&& token) {
    return detail::initiate_erased<AuditResult>(
        std::forward<CompletionToken>(token),
        [this](completion_handler<AuditResult> handler) { launch_run(std::move(handler)); });
  }
  /// The coroutine form (the result alone, stopped by request_stop() only).
  boost::asio::awaitable<AuditResult> async_run();
  /// The executor the operation runs on (the one it was built with).
  boost::asio::any_io_executor get_executor() const;
  /// Stops after what is in flight (the verification, or the heal's delivery).
  void request_stop();
  /// The verification's options as resolved (its `until` when none was given).
  const integrity::VerifyOptions& options() const noexcept;
  /// The ledger's description ("sqlite:/path", "dynamodb://table").
  std::string ledger_description() const;

  struct Impl;
  explicit LedgerAudit(std::shared_ptr<Impl> impl);

 private:
  void launch_run(completion_handler<AuditResult> handler);

  std::shared_ptr<Impl> impl_;
};

}  // namespace ctsqs
