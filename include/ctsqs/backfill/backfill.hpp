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

#include "ctsqs/collector/collector.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/collector/config.hpp"
#include "ctsqs/detail/completion.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/decode/log_key.hpp"
#include "ctsqs/collector/object_store.hpp"
#include "ctsqs/collector/sqs_source.hpp"

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
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

class AwsClient;

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

/// What a run delivers, as a backfill state's identity holds it: "" for every event of the
/// configured services, sent; else which services keep only some AWS services, and whether
/// `do_not_send` is on. A run that recorded objects done under a filter did not deliver their
/// other events, so a state made under one is refused by a run without it (and the reverse).
std::string backfill_delivery(const CollectorConfig& config);

/// The resume file of a backfill. Per day prefix it records either "complete", or a high-water
/// key (every key of the day up to it is done; S3 lists keys in order) plus the keys done above
/// it; a day that may still be written (GuardDuty's export names are random, so a later export
/// can sort below a done key) records its done keys only and is never completed. Completed days
/// are stored as runs of consecutive days per region directory. It is written whole to a
/// temporary file, fsync'ed, renamed over the old one and the directory fsync'ed, so a crash
/// leaves the old or the new state, never a torn one. A state records only objects whose events
/// a sink flush acknowledged (or, with --enqueue, whose notifications SQS accepted). While open
/// for writing it holds an exclusive lock (flock on `<file>.lock`): a second backfill on the same
/// file is refused.
class BackfillState {
 public:
  /// What the state belongs to; a file made for another identity is refused.
  struct Identity {
    std::string mode;  ///< "read" or "enqueue <queue url>"
    std::string bucket, prefix;
    SysTime since{}, until{};
    std::string delivery;  ///< backfill_delivery() of the run ("" in files written before it)
    bool operator==(const Identity&) const = default;
  };
  /// `exclusive`: locked for this process, saved by save(). `read_only` (a dry run): not locked,
  /// and save() never writes (the file is neither created nor changed).
  enum class Access { exclusive, read_only };

  /// Without a file: an in-memory state (nothing survives the process).
  BackfillState() = default;
  ~BackfillState();
  BackfillState(const BackfillState&) = delete;
  BackfillState& operator=(const BackfillState&) = delete;
  /// Opens `path` (a missing file starts empty). Errors: unreadable or malformed (naming the
  /// file and what was wrong), made for another bucket, prefix, range, mode or delivery, or
  /// (exclusive) locked by another backfill.
  static result<std::unique_ptr<BackfillState>> open(const std::filesystem::path& path, Identity identity,
                                                     Diagnostics& diag, Access access = Access::exclusive);
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
  /// `settled`: nothing more will be written to the day (else it records done keys only, no
  /// high water, and is never completed).
  void day_listed(const std::string& day_prefix, const std::vector<std::string>& pending, bool settled = true);
  /// Whether nothing more will be written to a day prefix
  /// (`.../<kind>/<region>/YYYY/MM/DD/`) at `now`: an hour after the day ends (CloudTrail: after
  /// the day or `until`, whichever is first, as later files are out of the range). A day prefix
  /// of another shape is settled.
  static bool settled(std::string_view day_prefix, SysTime until, SysTime now);
  /// One object is done (delivered, or enqueued).
  void mark_done(const std::string& day_prefix, const std::string& key);

  /// Writes the state durably when it changed since the last save (no-op without a file, or
  /// read-only). Blocking (two fsyncs): Backfill calls snapshot() on its thread and
  /// write_file() on another.
  result<void> save(Diagnostics& diag);
  /// Whether it changed since the last snapshot or save.
  bool dirty() const noexcept { return dirty_; }
  /// The text to write (serialize()) and clears dirty; nullopt when there is nothing to write
  /// (clean, no file, read-only). After a failed write_file, call mark_dirty().
  std::optional<std::string> snapshot();
  void mark_dirty() noexcept { dirty_ = true; }
  /// Writes `text` to `path` durably (temporary file, fsync, rename, directory fsync).
  static result<void> write_file(const std::filesystem::path& path, const std::string& text, Diagnostics& diag);

  std::uint64_t objects_done_this_run() const noexcept { return done_this_run_; }
  const std::filesystem::path& path() const noexcept { return path_; }

  /// The state as the file holds it (JSON text).
  std::string serialize() const;

 private:
  struct Day {
    bool complete = false;
    bool keys_only = false;        ///< this run: the day may still be written (no high water)
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
  bool read_only_ = false;
  int lock_fd_ = -1;
  std::uint64_t done_this_run_ = 0;
};

/// A fixed-size, uniform sample of the objects a dry run lists (reservoir sampling with a fixed
/// seed): the dry run keeps counts and this, never every object.
class BackfillSample {
 public:
  explicit BackfillSample(std::size_t size) : size_(size) {}
  void add(ListedLog log);
  const std::vector<ListedLog>& sample() const noexcept { return sample_; }
  std::uint64_t seen() const noexcept { return seen_; }

 private:
  std::size_t size_;
  std::uint64_t seen_ = 0;
  std::vector<ListedLog> sample_;
  std::mt19937_64 rng_{20261206};
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
  /// What was asked for and has nothing in the bucket: the prefix itself (no account under
  /// it), an account of `accounts`, a region of `regions` (a typo reads nothing: the run fails).
  std::vector<std::string> missing;
  /// Listings that failed for good (after the client's retries and the outage waits), each
  /// naming its prefix and the error; their days are not read (nor recorded), the rest is.
  std::vector<std::string> failed_listings;
  /// Day prefixes with objects and not one log among them: skipped with a warning, never
  /// recorded done (a layout the scanner does not read, or a wrong prefix).
  std::vector<std::string> days_without_logs;
  /// Per account/region/day ("<account> <region> <YYYY-MM-DD>"): objects and bytes to do.
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_day;
};

/// Settings of a BucketScanner.
struct BucketScannerOptions {
  bool force_path_style = false;
  std::size_t list_concurrency = 8;  ///< day prefixes listed at once
  std::function<void(std::string_view line)> log;  ///< warnings (an account asked for that is not there)
  /// An account of `range.accounts` with no logs is in ScanTotals::missing (false when the
  /// accounts are only a default filter, e.g. the collector file's allowed_accounts).
  bool accounts_required = true;
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
  /// Stops the scan (on its executor): no more listings, outage waits cut short; a listing call
  /// in progress ends by its own timeout. async_scan then fails with client_errc::cancelled.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// The body S3 sends for an ObjectCreated:Put of `object` (eventVersion 2.1, key URL-encoded as
/// S3 does: '+' for a space), so any collector's planner reads it as S3's own.
std::string s3_event_notification_body(const ObjectRef& object, SysTime event_time);

/// A MessageQueue over listed objects, so a Collector reads them with every guarantee it has
/// for SQS: a delete of an object the collector reported delivered (note_outcome) marks it done
/// in the state, a delete of anything else (a permanent failure under
/// `delete_after_receives`) gives it up and never marks it done; a visibility change hides it
/// for that long; an object that failed `max_receives` times for a reason of its own (corrupt,
/// over the caps, gone; failures of the environment do not count) is given up (listed by
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
  void note_outcome(const std::string& receipt_handle, MessageOutcome outcome) override;

  /// Objects given up: "s3://bucket/key: why".
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
  /// The state file is written (off the I/O thread) once this many objects were done since the
  /// last write, or `state_save_interval` passed, and at the end: a crash reads again at most
  /// what was done since (and what was in flight). --enqueue writes it after every batch.
  std::uint64_t state_save_objects = 1000;
  std::chrono::steady_clock::duration state_save_interval = std::chrono::seconds(10);
  std::size_t list_concurrency = 8;
  /// Keep only these AWS services (`--services`): set as the `aws_services` of every service of
  /// the file; "S3" and "s3.amazonaws.com" are "s3". Refused when the file reads GuardDuty
  /// (its findings have no AWS service).
  std::vector<std::string> aws_services;
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
    return !scan_failed && scan.missing.empty() && failed.empty() && !interrupted && state_error.empty() &&
           collector.clean();
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

  /// Lists, reads (or enqueues) and saves the state; completes with
  /// `void(error_code, BackfillResult)` through any completion token (a callback, `use_future`,
  /// `deferred`, `use_awaitable`; `as_tuple(...)` keeps the result when the code is set).
  ///
  /// The error code says why the run could not go on, or that it was cancelled; the result
  /// always carries the details: the pipeline's `collector.sink_error`, else its
  /// `collector.receive_error`, else `asio::error::operation_aborted` when stopped through the
  /// token's cancellation slot, else success — also when objects failed or a listing failed
  /// (`scan_failed`, `failed`, `state_error`: see `BackfillResult::clean()`).
  ///
  /// Cancellation through the handler's slot: terminal or partial is request_stop() (what is in
  /// flight finishes within the file's `shutdown_grace` or is released, the state is saved, the
  /// result is `interrupted`); total alone is ignored. The Backfill must outlive the operation.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(error_code, BackfillResult)) CompletionToken>
  auto async_run(CompletionToken&& token) {
    return detail::initiate_erased<BackfillResult>(
        std::forward<CompletionToken>(token),
        [this](completion_handler<BackfillResult> handler) { launch_run(std::move(handler)); });
  }
  /// The coroutine form (the result alone, stopped by request_stop() only).
  boost::asio::awaitable<BackfillResult> async_run();
  /// The executor the operation runs on (the one it was built with).
  boost::asio::any_io_executor get_executor() const;
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
  void launch_run(completion_handler<BackfillResult> handler);

  std::shared_ptr<Impl> impl_;
};

/// One progress line: "backfill: 12/40 objects, 3.1MB/9.8MB, 5120 events, 2.1k ev/s, ETA 1m05s"
/// ("40+" while the listing goes on; the ETA from the bytes done in `elapsed`, once all is listed).
std::string format_progress(const Backfill::Progress& p, std::chrono::duration<double> elapsed);

}  // namespace ctsqs
