// Backfill: a collector file plus a range to a run that reads (through the assembled Collector
// over a BackfillQueue), enqueues (SendMessageBatch of S3 notifications) or only lists (dry run,
// with a speed measured on a sample).
#include "ctsqs/backfill/backfill.hpp"
#include "detail/diag_errors.hpp"

#include "collector_async.hpp"
#include "ctsqs/aws/client.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/decode/tag_router.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <random>
#include <iostream>

namespace ctsqs {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

error_code invalid(Diagnostics& diag, std::string m) { return detail::invalid_argument(diag, std::move(m)); }

/// The collector settings a backfill reads with: no extensions (the queue is in memory), short
/// retry backoffs, a drain that ends when the listing ended and every object is done.
void backfill_collector_settings(CollectorConfig& cfg) {
  cfg.queue_required = false;
  cfg.sqs.visibility_timeout = seconds(43200);
  cfg.sqs.visibility_extension_interval = seconds(21600);
  cfg.drain.empty_polls = std::max(1, cfg.drain.empty_polls);
  cfg.heartbeat.enabled = false;
}

}  // namespace

void BackfillSample::add(ListedLog log) {
  ++seen_;
  if (sample_.size() < size_) {
    sample_.push_back(std::move(log));
    return;
  }
  // Reservoir sampling: every object listed so far is in the sample with the same chance.
  const auto j = std::uniform_int_distribution<std::uint64_t>(0, seen_ - 1)(rng_);
  if (j < size_) sample_[static_cast<std::size_t>(j)] = std::move(log);
}

std::string backfill_delivery(const CollectorConfig& config) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : "; ") + part; };
  for (const auto& s : config.services) {
    if (s.aws_services.empty()) continue;
    std::vector<std::string> kept = s.aws_services;
    std::sort(kept.begin(), kept.end());
    std::string list;
    for (const auto& k : kept) list += (list.empty() ? "" : ",") + k;
    add(s.name + " keeps only " + list);
  }
  if (config.do_not_send) add("do_not_send (nothing sent)");
  return out;
}

struct Backfill::Impl : std::enable_shared_from_this<Backfill::Impl> {
  asio::any_io_executor ex;
  CollectorConfig config;
  BackfillOptions options;
  std::function<void(std::string_view)> log;
  std::unique_ptr<BackfillState> state;
  std::unique_ptr<AssembledCollector> collector;  // read mode
  BackfillQueue* queue = nullptr;                 // owned by the collector
  std::unique_ptr<AwsClient> client;              // enqueue / dry run
  std::unique_ptr<SqsSource> target;              // enqueue
  std::unique_ptr<BucketScanner> scanner;
  bool stop = false;
  bool listing_done = false;
  bool accounts_required = true;
  std::uint64_t enqueued = 0, enqueued_bytes = 0;
  std::vector<std::string> failed;
  std::string state_error;

  Impl(asio::any_io_executor e) : ex(std::move(e)), save_changed(std::make_unique<detail::AsyncEvent>(ex)) {}
  ~Impl() {
    if (writer) writer->join();
  }

  AwsClient& aws() { return collector ? collector->aws_client() : *client; }

  // ---- the state file: serialized here, written (two fsyncs) on the writer thread, at most
  // every `state_save_objects` objects or `state_save_interval`, and at the end.
  std::unique_ptr<asio::thread_pool> writer;
  bool writing = false;
  std::uint64_t saved_at = 0;  // objects_done_this_run() at the last save
  steady_clock::time_point last_save = steady_clock::now();
  std::unique_ptr<detail::AsyncEvent> save_changed;

  void start_save() {
    if (!state || writing) return;
    auto text = state->snapshot();
    if (!text) return;
    if (!writer) writer = std::make_unique<asio::thread_pool>(1);
    writing = true;
    saved_at = state->objects_done_this_run();
    last_save = steady_clock::now();
    auto self = shared_from_this();
    asio::post(*writer, [self, text = std::move(*text)]() mutable {
      Diagnostics d;
      const bool ok = static_cast<bool>(BackfillState::write_file(self->state->path(), text, d));
      auto ex2 = self->ex;
      // The handler takes the last reference of this thread: the Impl is never freed here.
      asio::post(ex2, [self = std::move(self), ok, m = std::move(d.message)] { self->save_finished(ok, m); });
    });
  }

  void save_finished(bool ok, const std::string& message) {
    writing = false;
    if (!ok) {
      state->mark_dirty();  // written again at the next save
      if (state_error != message) log("ctsqs backfill: " + message);
      state_error = message;
    } else {
      state_error.clear();
    }
    save_changed->notify_all();
  }

  /// After a delete marked objects done: a save when enough objects or time passed.
  void objects_done() {
    if (!state || writing) return;
    if (state->objects_done_this_run() - saved_at >= options.state_save_objects ||
        steady_clock::now() - last_save >= options.state_save_interval)
      start_save();
  }

  /// Writes what is not written yet (waiting for a write in flight), off this thread.
  asio::awaitable<void> save_now() {
    if (!state) co_return;
    while (writing) co_await save_changed->wait();
    start_save();
    while (writing) co_await save_changed->wait();
  }

  asio::awaitable<result<ScanTotals>> scan(BucketScanner::DayHandler on_day, Diagnostics& diag) {
    BucketScannerOptions so;
    so.force_path_style = config.aws.s3_force_path_style;
    so.list_concurrency = options.list_concurrency;
    so.log = log;
    so.accounts_required = accounts_required;
    scanner = std::make_unique<BucketScanner>(aws(), options.range, so, state.get());
    if (stop) {
      diag.message = "stopped before the listing";
      co_return make_error_code(client_errc::cancelled);
    }
    auto r = co_await scanner->async_scan(std::move(on_day), diag);
    co_return r;
  }

  /// Listings that failed for good while the others went on.
  static void listing_failures(BackfillResult& res) {
    if (res.scan.failed_listings.empty()) return;
    res.scan_failed = true;
    for (const auto& f : res.scan.failed_listings) res.scan_error += (res.scan_error.empty() ? "" : "; ") + f;
  }

  /// A listing that failed; one cut short by a stop is the stop's, not a failure.
  void scan_failed(BackfillResult& res, const error_code& ec, const Diagnostics& d) {
    res.scan = scanner ? scanner->totals() : ScanTotals{};
    if (stop && ec == client_errc::cancelled) return;
    res.scan_failed = true;
    res.scan_error = d.message.empty() ? ec.message() : d.message;
  }

  // ---- read: scan into the queue while the collector reads it
  // (No lambda coroutines with captured shared_ptrs here, see async_run.) The state is saved by
  // the queue's on_done after every delete, and once more at the end.
  asio::awaitable<bool> add_day(std::string day, std::vector<ListedLog> logs) {
    if (stop) co_return false;
    std::vector<std::string> keys;
    for (const auto& l : logs) keys.push_back(l.object.key);
    if (state) state->day_listed(day, keys, BackfillState::settled(day, options.range.until, system_clock::now()));
    const bool more = co_await queue->async_add(std::move(logs));
    co_return more;
  }

  asio::awaitable<void> scan_into_queue(BackfillResult* res, bool* scan_done, detail::AsyncEvent* scan_changed) {
    Diagnostics d;
    auto r = co_await scan([this](std::string day, std::vector<ListedLog> logs) {
      return add_day(std::move(day), std::move(logs));
    }, d);
    if (r) {
      res->scan = *r;
      listing_failures(*res);
    } else {
      scan_failed(*res, r.error(), d);
      if (res->scan_failed) log("ctsqs backfill: listing failed: " + res->scan_error + "; what was listed is read");
    }
    listing_done = true;
    queue->close();
    *scan_done = true;
    scan_changed->notify_all();
  }

  asio::awaitable<BackfillResult> run_read() {
    BackfillResult res;
    bool scan_done = false;
    detail::AsyncEvent scan_changed(ex);
    asio::co_spawn(ex, scan_into_queue(&res, &scan_done, &scan_changed), asio::detached);
    res.collector = co_await collector->async_run();
    // The pipeline ended (done, stopped, or the sink gave up): the scan stops handing on.
    stop = true;
    queue->abandon();
    while (!scan_done) co_await scan_changed.wait();
    co_await save_now();
    res.objects_done = queue->delivered();
    res.bytes_done = queue->delivered_bytes();
    res.failed = queue->failed();
    res.interrupted = interrupted;
    res.state_error = state_error;
    co_return res;
  }

  // ---- enqueue: one S3 notification per object, to a queue
  asio::awaitable<bool> enqueue_day(std::string day, std::vector<ListedLog> logs) {
    if (stop) co_return false;
    std::vector<std::string> keys;
    for (const auto& l : logs) keys.push_back(l.object.key);
    if (state) state->day_listed(day, keys, BackfillState::settled(day, options.range.until, system_clock::now()));
    for (std::size_t i = 0; i < logs.size() && !stop; i += 10) {
      std::vector<std::string> bodies;
      const std::size_t end = std::min(logs.size(), i + 10);
      for (std::size_t k = i; k < end; ++k)
        bodies.push_back(s3_event_notification_body(logs[k].object, system_clock::now()));
      Diagnostics sd;
      auto sent = co_await target->async_send(bodies, sd);
      std::set<std::size_t> bad;
      if (!sent) {
        // The whole call failed (after the client's retries): none of the batch is enqueued.
        const std::string why = sd.message.empty() ? sent.error().message() : sd.message;
        for (std::size_t k = i; k < end; ++k) {
          bad.insert(k);
          failed.push_back("s3://" + logs[k].object.bucket + "/" + logs[k].object.key + ": not enqueued: " + why);
        }
      } else {
        for (auto& f : *sent) {
          const auto k = i + std::stoul(f.receipt_handle);
          bad.insert(k);
          failed.push_back("s3://" + logs[k].object.bucket + "/" + logs[k].object.key + ": not enqueued: " + f.code +
                           (f.message.empty() ? "" : " " + f.message));
        }
      }
      for (std::size_t k = i; k < end; ++k) {
        if (bad.count(k)) continue;
        if (state) state->mark_done(day, logs[k].object.key);
        ++enqueued;
        enqueued_bytes += logs[k].object.size;
      }
      // Durable before the next batch: a rerun after a crash sends at most this batch again.
      co_await save_now();
    }
    co_return !stop;
  }

  asio::awaitable<BackfillResult> run_enqueue() {
    BackfillResult res;
    Diagnostics d;
    auto r = co_await scan([this](std::string day, std::vector<ListedLog> logs) {
      return enqueue_day(std::move(day), std::move(logs));
    }, d);
    listing_done = true;
    if (r) {
      res.scan = *r;
      listing_failures(res);
    } else {
      scan_failed(res, r.error(), d);
    }
    co_await save_now();
    res.objects_done = enqueued;
    res.bytes_done = enqueued_bytes;
    res.failed = failed;
    res.interrupted = interrupted;
    res.state_error = state_error;
    co_return res;
  }

  // ---- dry run: list, then read a sample into nothing to measure the speed
  // Only counts (the scanner's) and a fixed-size sample are kept, not every listed object.
  asio::awaitable<bool> collect_day(BackfillSample* sample, std::vector<ListedLog> logs) {
    for (auto& l : logs) sample->add(std::move(l));
    co_return !stop;
  }

  asio::awaitable<BackfillResult> run_dry() {
    BackfillResult res;
    BackfillSample reservoir(8);
    Diagnostics d;
    auto r = co_await scan([this, &reservoir](std::string, std::vector<ListedLog> logs) {
      return collect_day(&reservoir, std::move(logs));
    }, d);
    listing_done = true;
    if (!r) {
      scan_failed(res, r.error(), d);
      res.interrupted = interrupted;
      co_return res;
    }
    res.scan = *r;
    listing_failures(res);
    res.interrupted = interrupted;
    if (reservoir.sample().empty() || stop) co_return res;
    // A sample spread over the range, read with the file's settings into a null output.
    std::vector<ListedLog> sample = reservoir.sample();
    CollectorConfig cfg = config;
    cfg.do_not_send = true;
    cfg.outputs = {};
    cfg.metrics.listen.reset();
    BackfillQueue* q = nullptr;
    AssemblyOptions ao = options.assembly;
    ao.drain = true;
    ao.extra_sinks.clear();
    ao.retry_backoff_min = seconds(1);
    ao.queue_factory = [&q, this](AwsClient&) {
      BackfillQueue::Options qo;
      qo.max_receives = 1;
      auto u = std::make_unique<BackfillQueue>(ex, qo, nullptr);
      q = u.get();
      return u;
    };
    Diagnostics bd;
    auto built = build_collector(std::move(cfg), ex, ao, bd);
    if (!built) {
      log("ctsqs backfill: cannot measure the speed: " + bd.message);
      co_return res;
    }
    std::uint64_t sample_bytes = 0;
    for (auto& s : sample) sample_bytes += s.object.size;
    const std::size_t n = sample.size();
    co_await q->async_add(std::move(sample));
    q->close();
    const auto t0 = steady_clock::now();
    auto cr = co_await (*built)->async_run();
    const double secs = duration<double>(steady_clock::now() - t0).count();
    if (q->delivered() == n && secs > 0 && sample_bytes > 0) {
      res.sample_objects = n;
      res.sample_seconds = secs;
      res.estimate_seconds = secs * static_cast<double>(res.scan.bytes) / static_cast<double>(sample_bytes);
    } else {
      log("ctsqs backfill: the sample could not be read (" + std::to_string(q->delivered()) + " of " +
          std::to_string(n) + "): no estimate");
    }
    (void)cr;
    co_return res;
  }

  bool interrupted = false;
};

Backfill::Backfill(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Backfill::~Backfill() = default;

result<std::unique_ptr<Backfill>> Backfill::create(CollectorConfig config, asio::any_io_executor executor,
                                                  BackfillOptions options, Diagnostics& diag) {
  auto impl = std::make_shared<Impl>(executor);
  impl->log = options.assembly.log ? options.assembly.log : [](std::string_view l) { std::cerr << l << '\n'; };
  options.assembly.log = impl->log;
  if (options.range.bucket.empty()) return invalid(diag, "backfill: --bucket is required");
  if (options.range.until == SysTime{}) {
    // No --until: a resumed run goes on with its state file's; a new one reads up to now.
    auto stored = options.state_file.empty() ? std::nullopt : BackfillState::stored_until(options.state_file);
    options.range.until = stored ? *stored
                                 : std::chrono::floor<std::chrono::minutes>(std::chrono::system_clock::now()) +
                                       std::chrono::minutes(1);
  }
  if (options.range.until <= options.range.since)
    return invalid(diag, "backfill: --until " + format_backfill_time(options.range.until) +
                             " is not after --since " + format_backfill_time(options.range.since));
  if (options.max_receives < 1) return invalid(diag, "backfill: max_receives must be at least 1");
  // The run against the collector file, before anything is listed: what its allow-lists would
  // refuse object by object is refused here at once.
  const std::string file = config.source_name.empty() ? "the collector file" : config.source_name;
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  const auto& allow = config.allow;
  if (!allow.buckets.empty() &&
      std::find(allow.buckets.begin(), allow.buckets.end(), options.range.bucket) == allow.buckets.end())
    return invalid(diag, "backfill: --bucket " + options.range.bucket + " is not in ctsqs.allowed_buckets of " + file +
                             " (" + join(allow.buckets) + "): every object would be refused");
  bool accounts_required = true;
  if (!allow.accounts.empty()) {
    if (options.range.accounts.empty()) {
      // The allow-list is the default filter: other accounts' objects would only be refused.
      options.range.accounts = allow.accounts;
      accounts_required = false;
    }
    for (const auto& a : options.range.accounts)
      if (std::find(allow.accounts.begin(), allow.accounts.end(), a) == allow.accounts.end())
        return invalid(diag, "backfill: account " + a + " is not in ctsqs.allowed_accounts of " + file + " (" +
                                 join(allow.accounts) + "): its objects would be refused");
  }
  for (const auto& a : options.range.accounts)
    if (a.size() != 12 || !std::all_of(a.begin(), a.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return invalid(diag, "backfill: --accounts: expected 12-digit account ids, got \"" + a + "\"");
  if (!options.aws_services.empty()) {
    for (const auto& s : config.services)
      if (s.name == "aws_sqs_guard_duty")
        return invalid(diag, "backfill: --services keeps events by the AWS service they come from; " + file +
                                 " also reads aws_sqs_guard_duty, whose findings have none: use a collector file "
                                 "without it, or no --services");
    std::vector<std::string> kept;
    for (const auto& v : options.aws_services) {
      const bool ok = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
      if (!ok)
        return invalid(diag, "backfill: --services: expected an AWS service name such as s3 or an event source "
                             "such as s3.amazonaws.com, got \"" + v + "\"");
      kept.push_back(normalize_service(v));  // "S3", "s3.amazonaws.com" -> "s3"
    }
    for (auto& s : config.services) s.aws_services = kept;
  }
  if (!options.range.prefix.empty() && options.range.prefix.back() != '/') options.range.prefix += '/';
  // The kinds of logs follow the configured services (unless the caller chose them): CloudTrail's
  // files for aws_sqs_cloudtrail, GuardDuty's exports for aws_sqs_guard_duty.
  if (options.range.kinds == BackfillRange{}.kinds) {
    const auto has = [&](std::string_view name) {
      return std::any_of(config.services.begin(), config.services.end(),
                         [&](const ServiceSettings& s) { return s.name == name; });
    };
    const bool guardduty = has("aws_sqs_guard_duty");
    if (guardduty && !has("aws_sqs_cloudtrail")) options.range.kinds.clear();
    if (guardduty) options.range.kinds.push_back("GuardDuty");
  }
  backfill_collector_settings(config);
  impl->accounts_required = accounts_required;

  if (!options.state_file.empty()) {
    // A dry run reads the state (to skip what is done) and never writes it.
    // An enqueued notification is read by other collectors with their own files: what this
    // file delivers does not matter then.
    BackfillState::Identity id{options.enqueue_url.empty() ? "read" : "enqueue " + options.enqueue_url,
                               options.range.bucket,
                               options.range.prefix,
                               options.range.since,
                               options.range.until,
                               options.enqueue_url.empty() ? backfill_delivery(config) : std::string()};
    auto st = BackfillState::open(options.state_file, id, diag,
                                  options.dry_run ? BackfillState::Access::read_only : BackfillState::Access::exclusive);
    if (!st) return invalid(diag, diag.message);
    impl->state = std::move(*st);
  }

  if (options.dry_run || !options.enqueue_url.empty()) {
    if (auto v = validate(config, diag); !v) {
      diag.message = "invalid configuration:\n" + diag.message;
      return v.error();
    }
    AssemblyOptions client_options = options.assembly;  // the embedder's env, files, credentials
    client_options.log = impl->log;
    auto client = make_aws_client(config, executor, client_options, diag);
    if (!client) return invalid(diag, "--enqueue: " + diag.message);
    impl->client = std::move(*client);
    if (!options.enqueue_url.empty() && !options.dry_run) {
      SqsSourceOptions so;
      so.queue_url = options.enqueue_url;
      auto target = SqsSource::create(*impl->client, so, diag);
      if (!target) return invalid(diag, "--enqueue: " + diag.message);
      impl->target = std::move(*target);
    }
  } else {
    AssemblyOptions ao = options.assembly;
    ao.drain = true;
    if (!ao.retry_backoff_min) ao.retry_backoff_min = seconds(1);
    BackfillQueue::Options qo;
    qo.max_receives = options.max_receives;
    qo.extension_timeout = config.sqs.visibility_timeout;
    Impl* raw = impl.get();
    qo.on_done = [raw] { raw->objects_done(); };
    ao.queue_factory = [raw, qo](AwsClient&) {
      auto q = std::make_unique<BackfillQueue>(raw->ex, qo, raw->state.get());
      raw->queue = q.get();
      return q;
    };
    auto built = build_collector(config, executor, ao, diag);
    if (!built) return built.error();
    impl->collector = std::move(*built);
  }
  impl->config = std::move(config);
  impl->options = std::move(options);
  return std::make_unique<Backfill>(std::move(impl));
}

asio::awaitable<BackfillResult> Backfill::async_run() {
  // Under ASan, the Impl was freed at the end of a read while the Backfill still held it, until
  // this function's several `co_return co_await` and the lambda coroutines capturing shared_ptrs
  // in run_read/run_enqueue were rewritten as plain coroutines; which of the two g++ 12
  // mishandled was not isolated, so neither form is used here.
  std::shared_ptr<Impl> impl = impl_;
  BackfillResult r;
  if (impl->options.dry_run)
    r = co_await impl->run_dry();
  else if (!impl->options.enqueue_url.empty())
    r = co_await impl->run_enqueue();
  else
    r = co_await impl->run_read();
  co_return r;
}

asio::any_io_executor Backfill::get_executor() const { return impl_->ex; }

void Backfill::request_stop() {
  auto impl = impl_;
  asio::post(impl->ex, [impl] {
    impl->stop = true;
    impl->interrupted = true;
    if (impl->scanner) impl->scanner->stop();
    if (impl->queue) impl->queue->abandon();
    if (impl->collector) impl->collector->request_stop();
  });
}

Backfill::Progress Backfill::progress() const {
  Progress p;
  if (impl_->scanner) {
    const auto t = impl_->scanner->totals();
    p.listed_objects = t.objects;
    p.listed_bytes = t.bytes;
  }
  p.listing_done = impl_->listing_done;
  if (impl_->queue) {
    p.done_objects = impl_->queue->delivered();
    p.done_bytes = impl_->queue->delivered_bytes();
  } else {
    p.done_objects = impl_->enqueued;
    p.done_bytes = impl_->enqueued_bytes;
  }
  if (impl_->collector) p.metrics = impl_->collector->metrics().snapshot();
  return p;
}

const CollectorConfig& Backfill::config() const noexcept { return impl_->config; }
const BackfillRange& Backfill::range() const noexcept { return impl_->options.range; }

std::string format_progress(const Backfill::Progress& p, std::chrono::duration<double> elapsed) {
  const double secs = elapsed.count();
  std::string line = "backfill: " + std::to_string(p.done_objects) + "/" + std::to_string(p.listed_objects) +
                     (p.listing_done ? "" : "+") + " objects, " + format_si(static_cast<double>(p.done_bytes), "B") +
                     "/" + format_si(static_cast<double>(p.listed_bytes), "B") + ", " +
                     std::to_string(p.metrics.events_delivered) + " events";
  if (secs > 0) line += ", " + format_si(static_cast<double>(p.metrics.events_delivered) / secs, " ev/s");
  if (p.listing_done && p.done_bytes > 0 && p.listed_bytes > p.done_bytes)
    line += ", ETA " + format_duration(secs * static_cast<double>(p.listed_bytes - p.done_bytes) /
                                       static_cast<double>(p.done_bytes));
  return line;
}

}  // namespace ctsqs
