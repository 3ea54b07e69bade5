// Backfill: read what a CloudTrail bucket already holds, by account, region and time range,
// through the same pipeline as `drain` (decoders, sinks, at-least-once, failure policy), with a
// durable resume state; or enqueue it as S3 event notifications for a fleet of collectors.
//
//   LogKey / parse_log_key      CloudTrail's key layout
//   BackfillState               the resume file: which objects of which day prefixes are done
//   BucketScanner               ListObjectsV2 over the layout: accounts, regions, day prefixes
//   BackfillQueue               a MessageQueue over listed objects, so a Collector reads them
//   Backfill                    the whole run (read, --enqueue or --dry-run) from a collector file
#pragma once

#include "ctsqs/collector.hpp"
#include "ctsqs/collector_assembly.hpp"
#include "ctsqs/collector_config.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/object_store.hpp"
#include "ctsqs/sqs_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

class AwsClient;

using SysTime = std::chrono::system_clock::time_point;

/// A key of CloudTrail's layout:
/// `[prefix/]AWSLogs/[o-<org-id>/]<account>/<kind>/<region>/YYYY/MM/DD/<file>`, where kind is
/// CloudTrail, CloudTrail-Insight, CloudTrail-Digest (or GuardDuty for its exports) and the file
/// name of a log carries its time: `<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`.
struct LogKey {
  std::string prefix;   ///< what precedes "AWSLogs/" ("" or ending in '/')
  std::string org_id;   ///< "o-..." for organization trails, else ""
  std::string account;  ///< 12 digits
  std::string kind;     ///< "CloudTrail", "CloudTrail-Insight", "CloudTrail-Digest", "GuardDuty"
  std::string region;
  int year = 0, month = 0, day = 0;
  std::optional<SysTime> file_time;  ///< from the file name, when it has one
  std::string day_prefix;            ///< the key up to and including "DD/"
};

/// Reads `key` as a CloudTrail (or GuardDuty) log key; nullopt when it does not follow the layout.
std::optional<LogKey> parse_log_key(std::string_view key);

/// "2026-09-01", "2026-09-01T06:00Z", "2026-09-01T06:00:00Z" (UTC) to a time; an error naming
/// `what` (e.g. "--since") and the text otherwise.
result<SysTime> parse_backfill_time(std::string_view text, std::string_view what, Diagnostics& diag);

/// "2026-09-01T06:00Z".
std::string format_backfill_time(SysTime t);

/// What to read.
struct BackfillRange {
  std::string bucket;
  std::string prefix;                 ///< the trail's S3 key prefix ("" or "logs/"; a trailing '/' is added)
  std::vector<std::string> accounts;  ///< empty: every account found
  std::vector<std::string> regions;   ///< empty: every region found
  SysTime since{};                    ///< files whose name time is >= since...
  /// ...and < until. Left unset (the epoch): resuming from a state file, that file's `until`;
  /// else now, to the next minute.
  SysTime until{};
  /// Which kinds of logs: CloudTrail and CloudTrail-Insight by default; Backfill sets them from
  /// the configured services (GuardDuty too with `aws_sqs_guard_duty`). Digests are never read.
  /// GuardDuty exports have no time in their names: a day that overlaps the range is read whole.
  std::vector<std::string> kinds{"CloudTrail", "CloudTrail-Insight"};
};

/// One object of the range to read, with the day prefix it was listed under.
struct ListedLog {
  std::string day_prefix;
  ObjectRef object;
};

/// The resume file of a backfill. Per day prefix it records either "complete", or a high-water
/// key (every key of the day up to it is done; S3 lists keys in order) plus the keys done above
/// it. It is written whole to a temporary file, fsync'ed, renamed over the old one and the
/// directory fsync'ed, so a crash leaves the old or the new state, never a torn one. A state
/// records only objects whose events a sink flush acknowledged (or, with --enqueue, whose
/// notifications SQS accepted).
class BackfillState {
 public:
  /// What the state belongs to; a file made for another identity is refused.
  struct Identity {
    std::string mode;  ///< "read" or "enqueue <queue url>"
    std::string bucket, prefix;
    SysTime since{}, until{};
    bool operator==(const Identity&) const = default;
  };

  /// Without a file: an in-memory state (nothing survives the process).
  BackfillState() = default;
  /// Opens `path` (a missing file starts empty). Errors: unreadable or malformed (naming the
  /// file and what was wrong), or made for another bucket, prefix, range or mode.
  static result<std::unique_ptr<BackfillState>> open(const std::filesystem::path& path, Identity identity,
                                                     Diagnostics& diag);
  /// The `until` a state file was made for, or nullopt (no file, or not a readable state): what a
  /// resumed run without --until goes on with.
  static std::optional<SysTime> stored_until(const std::filesystem::path& path);

  /// True when the whole day prefix was done in an earlier run.
  bool day_complete(const std::string& day_prefix) const;
  /// The high-water key of a day ("" when none): every key <= it is done.
  std::string high_water(const std::string& day_prefix) const;
  /// True when `key` of that day is done.
  bool done(const std::string& day_prefix, const std::string& key) const;

  /// The listing of a day prefix is complete: these keys (in listed order) remain to do.
  void day_listed(const std::string& day_prefix, const std::vector<std::string>& pending);
  /// One object is done (delivered, or enqueued).
  void mark_done(const std::string& day_prefix, const std::string& key);

  /// Writes the state durably when it changed since the last save (no-op without a file).
  result<void> save(Diagnostics& diag);

  std::uint64_t objects_done_this_run() const noexcept { return done_this_run_; }
  const std::filesystem::path& path() const noexcept { return path_; }

  /// The state as the file holds it (JSON text).
  std::string serialize() const;

 private:
  struct Day {
    bool complete = false;
    std::string high_water;        ///< every listed key <= it is done
    std::set<std::string> done;    ///< done keys above the high water
    std::set<std::string> pending; ///< this run: listed, not yet done
    bool listed = false;           ///< this run: the listing of the day ended
  };
  void advance(Day& d);

  std::filesystem::path path_;
  Identity identity_;
  std::map<std::string, Day> days_;
  bool dirty_ = false;
  std::uint64_t done_this_run_ = 0;
};

/// Counts of a scan.
struct ScanTotals {
  std::uint64_t listings = 0;            ///< ListObjectsV2 calls
  std::uint64_t days = 0;                ///< day prefixes listed
  std::uint64_t objects = 0;             ///< objects in range still to do
  std::uint64_t bytes = 0;
  std::uint64_t already_done = 0;        ///< in range, done by an earlier run (state file)
  std::uint64_t out_of_range = 0;        ///< in a listed day, outside [since, until)
  std::uint64_t not_logs = 0;            ///< not a .json.gz log of the layout (skipped unread)
  /// Per account/region/day ("<account> <region> <YYYY-MM-DD>"): objects and bytes to do.
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_day;
};

/// Settings of a BucketScanner.
struct BucketScannerOptions {
  bool force_path_style = false;
  std::size_t list_concurrency = 8;  ///< day prefixes listed at once
  std::function<void(std::string_view line)> log;  ///< warnings (an account asked for that is not there)
};

/// Lists a CloudTrail bucket over its layout with ListObjectsV2 (through an AwsClient: SigV4,
/// retries, redirects to the bucket's region): the accounts under `AWSLogs/` (and under
/// `AWSLogs/o-<org>/` for organization trails), their regions and the years, months and days
/// that exist with delimiter listings, then only the day prefixes of the range, every page
/// (continuation tokens), keeping the files whose name time is in range. Digest files are never listed. Day prefixes done in an earlier
/// run (state) are not listed again; a day in progress is listed from its high-water key on.
class BucketScanner {
 public:
  /// Called once per day prefix with its objects still to do (possibly none), in key order;
  /// the scan waits for it (backpressure). Returning false stops the scan (no more listings).
  using DayHandler = std::function<boost::asio::awaitable<bool>(std::string day_prefix, std::vector<ListedLog> logs)>;

  BucketScanner(AwsClient& client, BackfillRange range, BucketScannerOptions options,
                const BackfillState* state = nullptr);

  /// Scans the range. Fails (diag naming the bucket and prefix) when a listing fails after the
  /// client's retries; day prefixes already handed on stay handed on.
  boost::asio::awaitable<result<ScanTotals>> async_scan(DayHandler on_day, Diagnostics& diag);

  /// The counts so far (progress while a scan runs).
  ScanTotals totals() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// The body S3 sends for an ObjectCreated:Put of `object` (eventVersion 2.1, key URL-encoded as
/// S3 does: '+' for a space), so any collector's planner reads it as S3's own.
std::string s3_event_notification_body(const ObjectRef& object, SysTime event_time);

/// A MessageQueue over listed objects, so a Collector reads them with every guarantee it has
/// for SQS: a delete marks the object done in the state; a visibility change hides it for that
/// long; an object received `max_receives` times and failing again is given up (listed by
/// failed()), as a redrive policy would move it to a dead-letter queue.
class BackfillQueue final : public MessageQueue {
 public:
  struct Options {
    std::chrono::milliseconds wait_time{1000};  ///< how long an empty receive waits for objects
    int max_receives = 3;
    std::size_t max_buffered = 5000;  ///< objects waiting to be received before add() waits
    /// The collector's visibility timeout: a change to exactly this is an extension of a
    /// message still being read (it stays in flight); any other ends its receive.
    std::chrono::seconds extension_timeout{43200};
    /// Called after a delete marked objects done in the state (Backfill saves the state there,
    /// so a crash re-reads at most the objects in flight).
    std::function<void()> on_done;
  };
  BackfillQueue(boost::asio::any_io_executor executor, Options options, BackfillState* state);
  ~BackfillQueue() override;

  /// Adds listed objects (waits while `max_buffered` are waiting); false once abandoned.
  boost::asio::awaitable<bool> async_add(std::vector<ListedLog> logs);
  /// No more objects will be added (the scan ended).
  void close();
  /// The reader stopped: async_add takes nothing more and returns at once (false).
  void abandon();

  boost::asio::awaitable<result<std::vector<SqsMessage>>> async_receive(int max_messages, Diagnostics& diag) override;
  boost::asio::awaitable<result<std::vector<BatchEntryFailure>>> async_delete(std::vector<std::string> receipt_handles,
                                                                             Diagnostics& diag) override;
  boost::asio::awaitable<result<std::vector<BatchEntryFailure>>> async_change_visibility(
      std::vector<VisibilityChange> changes, Diagnostics& diag) override;
  /// Empty only when closed with nothing waiting, in flight or hidden for a retry.
  boost::asio::awaitable<result<QueueCounts>> async_queue_counts(Diagnostics& diag) override;

  /// Objects given up after `max_receives` failed receives: "s3://bucket/key".
  std::vector<std::string> failed() const;
  std::uint64_t delivered() const noexcept;
  std::uint64_t delivered_bytes() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// What `ctsqs backfill` does, besides the collector file.
struct BackfillOptions {
  BackfillRange range;
  std::filesystem::path state_file;  ///< empty: no resume state
  bool dry_run = false;              ///< list only: what would be read, and an estimate
  std::string enqueue_url;           ///< send notifications to this queue instead of reading
  int max_receives = 3;              ///< failed reads of one object before it is given up
  std::size_t list_concurrency = 8;
  AssemblyOptions assembly;          ///< sinks, hostname, log (drain and the queue are set here)
};

/// How a backfill ended.
struct BackfillResult {
  ScanTotals scan;
  bool scan_failed = false;
  std::string scan_error;            ///< why the listing failed
  std::uint64_t objects_done = 0;    ///< read and delivered (or enqueued) in this run
  std::uint64_t bytes_done = 0;
  std::vector<std::string> failed;   ///< objects given up, "s3://bucket/key: reason"
  CollectorResult collector;         ///< read mode: how the pipeline ended
  bool interrupted = false;          ///< stopped by request_stop() before the end
  std::string state_error;           ///< the state could not be saved (the last error)
  /// Dry run: seconds the read would take at the speed measured on a sample, when measured.
  std::optional<double> estimate_seconds;
  std::uint64_t sample_objects = 0;
  double sample_seconds = 0;
  bool clean() const noexcept {
    return !scan_failed && failed.empty() && !interrupted && state_error.empty() && collector.clean();
  }
};

/// A backfill built from a collector file: credentials, role with external id, endpoints,
/// outputs, services and decoder caps come from it (its queue is not needed). Runs on the
/// executor it was built with (a single-threaded io_context).
class Backfill {
 public:
  ~Backfill();
  Backfill(const Backfill&) = delete;
  Backfill& operator=(const Backfill&) = delete;

  /// Validates and builds; errors (client_errc::invalid_argument) name the setting or the
  /// state file.
  static result<std::unique_ptr<Backfill>> create(CollectorConfig config, boost::asio::any_io_executor executor,
                                                  BackfillOptions options, Diagnostics& diag);

  boost::asio::awaitable<BackfillResult> async_run();
  /// Stop: what is in flight is finished or released (not marked done); the state is saved.
  void request_stop();

  /// Progress: objects and bytes listed so far and done so far; the pipeline's metrics.
  struct Progress {
    std::uint64_t listed_objects = 0, listed_bytes = 0, done_objects = 0, done_bytes = 0;
    bool listing_done = false;
    MetricsSnapshot metrics;
  };
  Progress progress() const;
  const CollectorConfig& config() const noexcept;
  /// What is read, as resolved by create() (its `until` when none was given, the kinds).
  const BackfillRange& range() const noexcept;

  struct Impl;
  explicit Backfill(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

/// One progress line: "backfill: 12/40 objects, 3.1MB/9.8MB, 5120 events, 2.1k ev/s, ETA 1m05s"
/// ("40+" while the listing goes on; the ETA from the bytes done in `elapsed`, once all is listed).
std::string format_progress(const Backfill::Progress& p, std::chrono::duration<double> elapsed);

}  // namespace ctsqs
