// DrainHeal: healing holes from the digests in the drain. A log file a verified digest lists and
// the delivery ledger does not hold (no notification brought it) is looked up again after a grace
// period, claimed in the ledger, then fetched and delivered through the collector's own pipeline
// as a message of a queue wrapped around its SQS queue; each one is reported.
#pragma once

#include "ctsqs/collector/collector.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"
#include "ctsqs/integrity/drain_integrity.hpp"
#include "ctsqs/collector/object_store.hpp"
#include "ctsqs/collector/sqs_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {
class Ledger;
class Metrics;
}  // namespace ctsqs

namespace ctsqs::integrity {

/// A log file a verified digest lists that the ledger did not hold.
struct Hole {
  std::string bucket, key;
  std::string sha256;  ///< the digest's hashValue for it (hex SHA-256 of the uncompressed content)
  std::string digest;  ///< s3://bucket/key of the digest that lists it
  std::string uri() const { return "s3://" + bucket + "/" + key; }
};

/// How a heal ended.
enum class HealEnd {
  healed,            ///< delivered (its events flushed, recorded in the ledger), its message done
  filled_meanwhile,  ///< the collector found it recorded by another delivery before reading it
  evidence_missing,  ///< the file is no longer in the bucket (NoSuchKey / NoSuchBucket): given up
  failed,            ///< a failure of the file's own (corrupt, over the caps): given up
};

/// A heal that ended, with what the fetch saw.
struct FinishedHeal {
  Hole hole;
  HealEnd end = HealEnd::failed;
  std::string sha256;  ///< healed: the SHA-256 of the uncompressed content read ("" when unknown)
  std::string why;     ///< evidence_missing / failed: the fetch's error as the store said it
};

/// The pure bookkeeping of heals: holes waiting out their grace, holes being checked, heal and
/// report messages with their receipts and outcomes. No I/O and no clock (times come in);
/// DrainHeal drives it. Not thread-safe.
class HoleBook {
 public:
  using Clock = std::chrono::steady_clock;
  /// Receipt handles of the book's messages start with this (SQS's never do).
  static constexpr std::string_view receipt_prefix = "ctsqs-heal:";
  /// The inline source of a report message's plan begins with this; the decoder factory answers it.
  static constexpr std::string_view report_source = "ctsqs.heal-report:";

  /// `report_tag`: an unguessable token in the report sources, so that no message from the
  /// queue (an EventBridge event naming such a source) can pass for a report.
  explicit HoleBook(std::string report_tag = {}) : report_prefix_(std::string(report_source) + report_tag + ":") {}

  /// Starts tracking `holes` until `due`. Returns those taken: a file already tracked (listed by
  /// a digest that came twice) or given up in this process (missing, failed) is not taken again.
  std::vector<Hole> wait(std::vector<Hole> holes, Clock::time_point due);
  /// The holes whose grace ended at `now`, now being checked (queue() or drop() each).
  std::vector<Hole> take_due(Clock::time_point now);
  /// The earliest end of a grace, if any hole waits.
  std::optional<Clock::time_point> next_due() const;
  /// After the check: deliver it (a heal message, visible at once).
  void queue(const std::string& uri);
  /// After the check: not to be healed here (recorded meanwhile, claimed by another collector).
  void drop(const std::string& uri);
  /// A message that carries `events` (integrity events) through the pipeline.
  void report(std::vector<Event> events);

  /// Up to `max` messages visible at `now` (hidden ones whose backoff ended included), each
  /// with a fresh receipt; body empty (plan() gives their plan).
  std::vector<SqsMessage> receive(int max, Clock::time_point now);
  bool owns(std::string_view receipt_handle) const;
  /// The plan of one of its messages: the hole's object, or a report (inline, report_source+id).
  std::optional<MessagePlan> plan(std::string_view receipt_handle) const;
  /// The events of the report a plan's inline source names, or nullptr.
  const std::vector<Event>* report_events(std::string_view inline_source) const;

  void note_outcome(std::string_view receipt_handle, MessageOutcome outcome);
  /// The SHA-256 of the uncompressed content the fetch of a heal in flight read, or "".
  std::string read_sha256(std::string_view bucket, std::string_view key) const;
  /// Whether a heal of this object is in flight (its fetch is watched).
  bool fetching(std::string_view bucket, std::string_view key) const;
  /// What the fetch of a heal in flight ended with (`sha256` empty when not computed).
  void fetched(std::string_view bucket, std::string_view key, error_code ec, std::string why, std::string sha256);

  /// A visibility change of one of its receipts: with no outcome noted and `timeout` > 0 an
  /// extension (stays in flight); 0 without an outcome a release (visible again, the receive
  /// not counted); after a retryable outcome hidden until now + timeout; after a permanent one
  /// the heal ends (missing evidence or failed: never retried); after a delivery (a collector
  /// with ack_messages off keeps its messages) as deleted(). false: not a receipt in flight.
  bool change_visibility(std::string_view receipt_handle, std::chrono::seconds timeout, Clock::time_point now,
                         std::optional<FinishedHeal>& finished);
  /// A delete of one of its receipts: a heal delivered (fetched) is healed, one delivered
  /// without a read was filled meanwhile, one that failed permanently is given up; a report is
  /// done. false: not a receipt in flight.
  bool deleted(std::string_view receipt_handle, std::optional<FinishedHeal>& finished);

  /// Heals and reports not finished (waiting, being checked, visible, in flight, hidden).
  std::size_t pending() const noexcept { return entries_.size(); }
  /// The latest time a pending entry waits for (a grace or a backoff), or `now`.
  Clock::time_point latest_wait(Clock::time_point now) const;
  /// Ends the book: the heals not finished (reports are dropped).
  std::vector<Hole> abandon();

 private:
  struct Entry {
    enum class Kind { heal, report } kind = Kind::heal;
    enum class State { waiting, checking, visible, in_flight, hidden } state = State::waiting;
    Hole hole;
    std::vector<Event> events;
    Clock::time_point at{};  // waiting: end of the grace; hidden: visible again
    int receives = 0;
    std::string receipt;
    std::optional<MessageOutcome> outcome;
    bool fetch_seen = false;
    error_code fetch_ec;
    std::string fetch_why, sha256;
  };
  std::optional<std::uint64_t> in_flight(std::string_view receipt_handle) const;
  FinishedHeal finish(std::uint64_t id, HealEnd end);
  FinishedHeal give_up(std::uint64_t id);

  std::map<std::uint64_t, Entry> entries_;
  std::map<std::string, std::uint64_t, std::less<>> by_uri_;      // heals
  std::map<std::string, std::uint64_t, std::less<>> by_receipt_;  // in flight
  std::set<std::string, std::less<>> given_up_;                   // missing or failed: not again
  std::uint64_t next_id_ = 1, next_receipt_ = 1;
  std::string report_prefix_;
};

/// Settings of DrainHeal.
struct DrainHealOptions {
  /// How long after its digest a hole is looked up again (`ctsqs.integrity.heal_grace`).
  std::chrono::seconds grace{600};
  /// A hole is claimed in the ledger (Ledger::async_claim) for this long before it is delivered.
  std::chrono::seconds claim_for{1800};
  /// The claimant: unique per process (collectors of a fleet may share a collector id).
  std::string claimant;
  std::string collector_id;  ///< named by the integrity events
  std::function<void(std::string_view line)> log;  ///< default: stderr
};

/// What the heals of a run came to (for the CLI's summary and exit code).
struct HealSummary {
  std::vector<std::string> healed;            ///< "s3://b/k (digest s3://b/d)"
  std::vector<std::string> evidence_missing;  ///< listed, no longer in the bucket
  std::vector<std::string> failed;            ///< given up for a failure of the file's own
  std::vector<std::string> unfinished;        ///< not healed when the run ended (a stop)
};

/// The heal of one collector. Hooks: `digest_verified` (DrainIntegrityOptions::on_valid_digest),
/// and decorators of the collector's queue (heal and report messages beside SQS's, counted by
/// the queue's counts so a drain waits for them), object store (watches the fetch of each heal:
/// NoSuchKey, the SHA-256), ledger (the SHA-256 in a healed file's record), planner and decoder
/// factory (the plans and events of its messages).
///
/// A hole is reported three ways once healed (its message deleted after its flush and ledger
/// record): a log line, `holes_healed`, and an event tagged `cloud.aws.cloudtrail.integrity`
/// (kind `healed`, the file, the digest) carried by a report message. A stop ends the heals not
/// finished: each is logged as not healed (its claim lapses; `ctsqs audit --heal` finds it).
///
/// Runs on the collector's executor (single-threaded); ledger, metrics and the wrapped parts
/// must outlive it; async_close() must have completed before it is destroyed.
class DrainHeal {
 public:
  DrainHeal(boost::asio::any_io_executor executor, Ledger& ledger, Metrics& metrics, DrainHealOptions options);
  ~DrainHeal();
  DrainHeal(const DrainHeal&) = delete;
  DrainHeal& operator=(const DrainHeal&) = delete;

  /// Healed files are forgotten by it (read after their digest: not unlisted by the next one).
  void set_integrity(std::shared_ptr<DrainIntegrity> integrity);
  /// A digest verified: its files are looked up in the ledger (one call); those absent wait the
  /// grace, are looked up again (one call for all due at once), claimed, then delivered.
  void digest_verified(VerifiedDigest digest);

  std::unique_ptr<MessageQueue> wrap(MessageQueue& inner);
  std::unique_ptr<ObjectStore> wrap(ObjectStore& inner);
  /// The ledger the collector records through: a healed file's record gets the SHA-256 of the
  /// content read (compared with the digest's) when the collector gave none.
  std::unique_ptr<Ledger> wrap(Ledger& inner);
  MessagePlanner wrap(MessagePlanner inner);
  PayloadDecoderFactory wrap(PayloadDecoderFactory inner);

  /// After the collector's run: stops the work in the background, logs the heals not finished.
  boost::asio::awaitable<void> async_close();
  HealSummary summary() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ctsqs::integrity
