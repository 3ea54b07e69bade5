// Metrics: the collector's counters, their Prometheus text form, the stderr progress line and the
// periodic heartbeat event.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs {

/// A consistent-enough copy of the counters at one moment (each field read atomically).
struct MetricsSnapshot {
  std::uint64_t receives = 0;               ///< ReceiveMessage calls that answered
  std::uint64_t empty_receives = 0;         ///< ... of which returned no message
  std::uint64_t messages_received = 0;      ///< messages handed out by SQS (redeliveries count again)
  std::uint64_t messages_deleted = 0;       ///< messages acknowledged (deleted) after delivery
  std::uint64_t messages_released = 0;      ///< messages left to come back (retryable failure, shutdown)
  std::uint64_t messages_failed = 0;        ///< messages with a permanent failure (policy applied)
  std::uint64_t messages_ignored = 0;       ///< test events and notifications without work, deleted
  std::uint64_t objects_fetched = 0;        ///< S3 objects fetched and decoded completely
  std::uint64_t objects_failed = 0;         ///< S3 objects that failed (any reason)
  std::uint64_t objects_skipped = 0;        ///< digest files and other objects with no events
  std::uint64_t duplicates_skipped = 0;     ///< announced objects the ledger says were delivered already
  std::uint64_t ledger_records = 0;         ///< objects recorded in the ledger after their flush
  std::uint64_t ledger_errors = 0;          ///< ledger lookups or writes that failed (delivery went on)
  std::uint64_t events_written = 0;         ///< events handed to the sink
  std::uint64_t events_delivered = 0;       ///< events covered by a successful sink flush
  std::uint64_t events_dropped = 0;         ///< events filtered out by the service filter
  std::uint64_t events_retagged = 0;        ///< events sent to service `unknown` by a tag limit
  std::uint64_t bytes_fetched = 0;          ///< S3 object bytes received (as stored, e.g. gzipped)
  std::uint64_t visibility_extensions = 0;  ///< ChangeMessageVisibility extensions sent
  std::uint64_t sqs_errors = 0;             ///< SQS calls that failed after retries
  std::uint64_t s3_errors = 0;              ///< S3 GetObject calls that failed after retries
  std::uint64_t sink_flushes = 0;           ///< successful sink flushes
  std::uint64_t sink_failures = 0;          ///< failed sink writes or flushes
  std::uint64_t messages_in_flight = 0;     ///< gauge: messages being worked on
  std::uint64_t objects_in_flight = 0;      ///< gauge: objects being fetched/decoded
  std::uint64_t objects_in_flight_limit = 0;  ///< gauge: the adaptive limit on them (0 = fixed)
  std::uint64_t integrity_digests_verified = 0;  ///< digests verified in the drain (ctsqs.integrity)
  std::uint64_t integrity_findings = 0;     ///< integrity findings: invalid digests, mismatched or unlisted files
  std::uint64_t holes_found = 0;            ///< listed files no notification brought, taken on for a heal
  std::uint64_t holes_healed = 0;           ///< ... of them delivered and recorded (ctsqs.integrity.heal)
  std::uint64_t evidence_missing = 0;       ///< ... of them no longer in the bucket (given up, reported)
  std::int64_t queue_lag_ms = -1;           ///< age (now - SentTimestamp) of the last message received; -1 unknown
  /// Time of the last event delivered (its receipt by the sink); unset before the first.
  std::optional<std::chrono::system_clock::time_point> last_event_time;
};

/// The live counters. Updated from the event loop and the sink thread; every member is atomic, so
/// any thread may read a snapshot at any time.
class Metrics {
 public:
  std::atomic<std::uint64_t> receives{0}, empty_receives{0}, messages_received{0},
      messages_deleted{0}, messages_released{0}, messages_failed{0}, messages_ignored{0},
      objects_fetched{0}, objects_failed{0}, objects_skipped{0}, events_written{0},
      events_delivered{0}, events_dropped{0}, events_retagged{0}, bytes_fetched{0}, visibility_extensions{0},
      sqs_errors{0}, s3_errors{0}, sink_flushes{0}, sink_failures{0}, messages_in_flight{0},
      objects_in_flight{0};
  std::atomic<std::uint64_t> duplicates_skipped{0}, ledger_records{0}, ledger_errors{0};
  std::atomic<std::uint64_t> objects_in_flight_limit{0};
  std::atomic<std::uint64_t> integrity_digests_verified{0}, integrity_findings{0};
  std::atomic<std::uint64_t> holes_found{0}, holes_healed{0}, evidence_missing{0};
  std::atomic<std::int64_t> queue_lag_ms{-1};
  /// Milliseconds since the Unix epoch of the last delivered event; 0 = none yet.
  std::atomic<std::int64_t> last_event_unix_ms{0};

  /// Copy every counter.
  MetricsSnapshot snapshot() const;
};

/// Render the Prometheus text exposition format (version 0.0.4): one `ctsqs_*` series per counter
/// or gauge, each with `# HELP`/`# TYPE` and a `collector_id` label.
std::string to_prometheus(const MetricsSnapshot& s, std::string_view collector_id);

/// One progress line for stderr: messages, objects, events, bytes, event rate since `prev`, queue
/// lag and what is in flight. `elapsed` is the time between `prev` and `now`.
std::string format_progress(const MetricsSnapshot& now, const MetricsSnapshot& prev,
                            std::chrono::duration<double> elapsed);

/// A count or size with an SI prefix: 12345678 with unit "B" -> "12.3MB"; below 1000 no decimals.
std::string format_si(double v, std::string_view unit = "");

/// A duration for people: "42s", "3m05s", "2h10m".
std::string format_duration(double seconds);

/// The end-of-run summary (several lines, for stderr).
std::string format_summary(const MetricsSnapshot& s, std::chrono::duration<double> elapsed);

/// Heartbeat settings (`ctsqs.heartbeat` in the collector file).
struct HeartbeatOptions {
  bool enabled = true;                   ///< send a heartbeat event to the sink periodically
  std::chrono::seconds interval{60};     ///< how often
  /// Tag of the heartbeat event. Devo's convention for an application's own events is `my.app.*`;
  /// an inactivity alert on `collector_id` under this tag watches the collector.
  std::string tag = "my.app.ctsqs.heartbeat";
};

/// Build a heartbeat event: `{"collector_id":...,"time":...,"status":...,"messages_deleted":...,
/// "events_delivered":...,...,"last_event_time":...|null}`, raw JSON in `record` and the same
/// members in `columns`. `now` is passed in; nothing here reads a clock.
Event make_heartbeat_event(const HeartbeatOptions& options, std::string_view collector_id,
                           std::string_view status, const MetricsSnapshot& s,
                           std::chrono::system_clock::time_point now);

/// "2026-11-28T19:48:27.123Z" (UTC, milliseconds).
std::string format_iso8601(std::chrono::system_clock::time_point t);

}  // namespace ctsqs
