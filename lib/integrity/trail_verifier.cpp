// TrailVerifier: public keys, listings (bucket scanner), digests and log files fetched many at
// once and checked, the chains walked; records handed on as they are decided.
#include "ctsqs/integrity/trail_verifier.hpp"
#include "../detail/diag_errors.hpp"

#include "../collector_async.hpp"
#include "../detail/adaptive_concurrency.hpp"
#include "../detail/decode_pool.hpp"
#include "ctsqs/aws/client.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/integrity/chain_walk.hpp"
#include "ctsqs/integrity/gunzip_sha256.hpp"
#include "ctsqs/collector/metrics.hpp"
#include "ctsqs/collector/object_store.hpp"
#include "ctsqs/aws/s3/protocol.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <iostream>
#include <set>

namespace ctsqs::integrity {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

error_code invalid(Diagnostics& diag, std::string m) { return detail::invalid_argument(diag, std::move(m)); }

/// What one fetch found: the gunzip+hash state and how the fetch ended.
struct Fetched {
  bool ok = false;
  FileStatus status = FileStatus::invalid;  // when !ok
  std::string reason;                       // when !ok
  bool failed_for_good = false;             // an environment failure (not the object's fault)
  bool retryable = false;
  std::string sha256;
  std::string kept;
  ObjectMetadata metadata;
  std::uint64_t bytes = 0;
};

/// One chunk into the gunzip+hash, on the pool's threads when there is one (the chunk stays
/// valid until this returns: the store reads no further meanwhile).
asio::awaitable<result<void>> feed(detail::DecodePool* pool, GunzipSha256* g, Diagnostics* d, bool* bad,
                                   std::uint64_t* bytes, std::span<const std::byte> chunk) {
  *bytes += chunk.size();
  result<void> r;
  auto job = [&] { r = g->update(chunk, *d); };
  if (pool)
    co_await pool->run(job);
  else
    job();
  if (!r) *bad = true;
  co_return r;
}

/// Listings the scanner reports as failed for good in its totals while the scan goes on (helper
/// A's scanner, issue 17, names them in ScanTotals::failed_listings): each one is an error of the
/// run, never a silent hole. A no-op with a scanner that fails the whole scan instead.
template <class Totals>
void add_failed_listings(const Totals& totals, std::vector<std::string>& errors) {
  if constexpr (requires { totals.failed_listings; })
    for (const auto& f : totals.failed_listings) errors.push_back("listing failed: " + std::string(f));
}

/// What was asked for (--prefix, --accounts, --regions) and has no digest at all, when the
/// scanner reports it (ScanTotals::missing, issue 17): a typo proves nothing, so it fails the run.
template <class Totals>
void add_missing(const Totals& totals, std::vector<std::string>& errors) {
  if constexpr (requires { totals.missing; })
    for (const auto& m : totals.missing) errors.push_back("no digests for " + std::string(m));
}

/// The folder of a key: prefix, organization, account, region, and the kind of log files (a
/// digest's folder is that of the files its kind covers).
std::string folder_of(const LogKey& k) {
  const std::string kind = k.kind == "CloudTrail-Digest" ? "CloudTrail"
                           : k.kind == "CloudTrail-Insight-Digest" ? "CloudTrail-Insight"
                                                                   : k.kind;
  return k.prefix + "|" + k.org_id + "|" + k.account + "|" + k.region + "|" + kind;
}

}  // namespace

struct TrailVerifier::Impl : std::enable_shared_from_this<TrailVerifier::Impl> {
  asio::any_io_executor ex;
  CollectorConfig config;
  VerifyOptions opt;
  std::function<void(std::string_view)> log;
  std::unique_ptr<AwsClient> client;
  std::unique_ptr<S3ObjectStore> store;
  // Log files and digests are inflated and hashed on these threads (config.concurrency.
  // decode_threads); null with one thread: on the loop.
  std::unique_ptr<detail::DecodePool> hash_pool;
  bool stop = false;
  BucketScanner* scanner = nullptr;  // the listing in progress: a stop reaches its pages and outage waits
  Progress prog;
  VerifyResult res;
  std::map<std::string, PublicKeyRing> rings;  // by home region
  std::string bucket_region;

  // Listings.
  std::vector<ListedLog> digest_objects;
  std::vector<ListedLog> log_objects;
  // Work.
  std::vector<CheckedDigest> checked;
  std::vector<LogExpectation> expectations;

  explicit Impl(asio::any_io_executor e) : ex(std::move(e)) {}

  void emit(const ReportRecord& r) {
    res.counts.add(r);
    if (opt.on_record) opt.on_record(r);
  }

  // ---- listings through the backfill's scanner
  asio::awaitable<bool> collect(std::vector<ListedLog>* into, std::vector<ListedLog> logs) {
    for (auto& l : logs) {
      if (bucket_region.empty()) bucket_region = l.object.region;
      into->push_back(std::move(l));
    }
    co_return !stop;
  }

  asio::awaitable<bool> list(std::vector<std::string> kinds, SysTime since, SysTime until, std::vector<ListedLog>* into) {
    BackfillRange range;
    range.bucket = opt.bucket;
    range.prefix = opt.prefix;
    range.accounts = opt.accounts;
    range.regions = opt.regions;
    range.since = since;
    range.until = until;
    range.kinds = std::move(kinds);
    BucketScannerOptions so;
    so.force_path_style = config.aws.s3_force_path_style;
    so.list_concurrency = opt.list_concurrency;
    so.log = log;
    BucketScanner listing(*client, range, so);
    scanner = &listing;
    if (stop) listing.stop();
    Diagnostics d;
    auto r = co_await listing.async_scan([this, into](std::string, std::vector<ListedLog> logs) {
      return collect(into, std::move(logs));
    }, d);
    scanner = nullptr;
    if (stop) co_return false;
    if (!r) {
      res.errors.push_back("listing failed: " + (d.message.empty() ? r.error().message() : d.message));
      log("ctsqs verify: " + res.errors.back());
      co_return false;
    }
    const std::size_t before = res.errors.size();
    add_failed_listings(*r, res.errors);
    if (into == &digest_objects) add_missing(*r, res.errors);
    for (std::size_t i = before; i < res.errors.size(); ++i) log("ctsqs verify: " + res.errors[i]);
    co_return true;
  }

  // ---- public keys
  asio::awaitable<void> load_keys(std::string home_region) {
    auto& ring = rings[home_region];
    std::string token;
    for (int page = 0; page < 1000; ++page) {
      Diagnostics d;
      auto ep = resolve_endpoint(AwsService::cloudtrail, home_region, client->endpoint_config(), client->env(), d);
      if (!ep) {
        res.errors.push_back("CloudTrail ListPublicKeys in " + home_region + ": " + d.message);
        co_return;
      }
      ListPublicKeysParams p;
      p.endpoint = *ep;
      p.start_time = opt.since - hours(1);
      p.end_time = opt.until + hours(2);
      p.next_token = token;
      auto req = make_list_public_keys_request(p, d);
      if (!req) {
        res.errors.push_back(d.message);
        co_return;
      }
      CallOptions co;
      co.operation = "ListPublicKeys";
      co.region = ep->signing_region.empty() ? home_region : ep->signing_region;
      auto resp = co_await client->async_call("cloudtrail", std::move(*req), co, d);
      if (!resp) {
        res.errors.push_back("CloudTrail ListPublicKeys in " + home_region + " failed: " +
                             (d.message.empty() ? resp.error().message() : to_string(d)));
        log("ctsqs verify: " + res.errors.back());
        co_return;
      }
      Diagnostics pd;
      auto parsed = parse_list_public_keys_response(resp->body, pd);
      if (!parsed) {
        res.errors.push_back(pd.message);
        co_return;
      }
      for (auto& k : parsed->keys) ring.add(std::move(k));
      if (parsed->next_token.empty() || parsed->next_token == token) break;
      token = parsed->next_token;
    }
    if (ring.size() == 0)
      log("ctsqs verify: no CloudTrail public keys in " + home_region + " between " + format_iso_seconds(opt.since - hours(1)) +
          " and " + format_iso_seconds(opt.until + hours(2)));
  }

  // ---- one fetch: gunzip + SHA-256 as a stream
  asio::awaitable<Fetched> fetch(std::string bucket, std::string key, std::size_t keep_max) {
    Fetched f;
    ObjectRef ref;
    ref.bucket = bucket;
    ref.key = key;
    ref.region = bucket == opt.bucket ? bucket_region : std::string();
    GunzipSha256 g(keep_max);
    Diagnostics gd, d;
    bool bad = false;
    std::uint64_t bytes = 0;
    HttpResponse head;
    ObjectChunkHandler h = [pool = hash_pool.get(), g = &g, gd = &gd, bad = &bad, bytes = &bytes](std::span<const std::byte> c) {
      return feed(pool, g, gd, bad, bytes, c);
    };
    auto r = co_await store->async_fetch_with_head(ref, std::move(h), &head, d);
    f.bytes = bytes;
    if (bad) {
      f.reason = "invalid format: " + gd.message;
      co_return f;
    }
    if (!r) {
      if (r.error() == aws_errc::no_such_key) {
        f.status = FileStatus::missing;
        f.reason = "not found";
      } else {
        f.failed_for_good = true;
        f.retryable = s3::is_retryable(r.error());
        f.reason = "could not be read: " + (d.message.empty() ? r.error().message() : d.message);
      }
      co_return f;
    }
    auto sha = g.finish(gd);
    if (!sha) {
      f.reason = "invalid format: " + gd.message;
      co_return f;
    }
    f.ok = true;
    f.sha256 = std::move(*sha);
    f.kept = g.kept();
    f.metadata = s3::user_metadata(head);
    co_return f;
  }

  // ---- many at once: workers under the adaptive (or fixed) limit
  struct Pool {
    std::size_t next = 0, count = 0, in_flight = 0, workers = 0;
    AdaptiveConcurrency ac;
    bool adaptive = true;
    std::size_t fixed = 8;
    detail::AsyncEvent changed;
    std::function<asio::awaitable<bool>(std::size_t)> job;  // true: a retryable failure
    Pool(asio::any_io_executor e, AdaptiveConcurrencyOptions o) : ac(o), changed(std::move(e)) {}
    std::size_t limit() const { return adaptive ? ac.limit() : fixed; }
  };

  static asio::awaitable<void> worker(std::shared_ptr<Impl> self, std::shared_ptr<Pool> pool) {
    for (;;) {
      while (pool->next < pool->count && pool->in_flight >= pool->limit() && !self->stop) co_await pool->changed.wait();
      if (pool->next >= pool->count || self->stop) break;
      const std::size_t i = pool->next++;
      ++pool->in_flight;
      pool->ac.started(pool->in_flight);
      const auto t0 = steady_clock::now();
      const bool retryable = co_await pool->job(i);
      pool->ac.completed(steady_clock::now() - t0, retryable, steady_clock::now());
      --pool->in_flight;
      pool->changed.notify_all();
    }
    --pool->workers;
    pool->changed.notify_all();
  }

  asio::awaitable<void> run_pool(std::size_t count, std::function<asio::awaitable<bool>(std::size_t)> job) {
    AdaptiveConcurrencyOptions ao;
    const bool adaptive = opt.objects_in_flight == 0 && config.concurrency.adaptive_objects_in_flight;
    const std::size_t fixed = opt.objects_in_flight ? opt.objects_in_flight : config.concurrency.objects_in_flight;
    ao.initial = std::max<std::size_t>(1, fixed);
    ao.max = std::max(ao.initial, config.concurrency.max_objects_in_flight);
    auto pool = std::make_shared<Pool>(ex, ao);
    pool->adaptive = adaptive;
    pool->fixed = std::max<std::size_t>(1, fixed);
    pool->count = count;
    pool->job = std::move(job);
    const std::size_t n = std::min(count, adaptive ? ao.max : pool->fixed);
    pool->workers = n;
    for (std::size_t i = 0; i < n; ++i) asio::co_spawn(ex, worker(shared_from_this(), pool), asio::detached);
    while (pool->workers > 0) co_await pool->changed.wait();
  }

  asio::awaitable<bool> digest_job(std::size_t i) {
    const auto& o = digest_objects[i].object;
    auto f = co_await fetch(o.bucket, o.key, opt.max_digest_bytes);
    res.bytes_read += f.bytes;
    prog.bytes += f.bytes;
    if (!f.ok) {
      if (f.failed_for_good) {
        res.errors.push_back("s3://" + o.bucket + "/" + o.key + ": " + f.reason);
        log("ctsqs verify: " + res.errors.back());
      }
      checked[i] = unreadable_digest(o.bucket, o.key, f.status, f.reason);
    } else {
      const auto where = parse_digest_key(o.key);
      const auto ring = where ? rings.find(where->home_region) : rings.end();
      static const PublicKeyRing none;
      checked[i] = check_digest(o.bucket, o.key, f.kept, f.metadata, ring == rings.end() ? none : ring->second);
    }
    ++prog.digests_done;
    co_return f.retryable;
  }

  asio::awaitable<bool> log_job(std::size_t i) {
    const auto& e = expectations[i];
    auto f = co_await fetch(e.bucket, e.key, 0);
    res.bytes_read += f.bytes;
    prog.bytes += f.bytes;
    ReportRecord r = f.ok ? log_record(e, FileStatus::valid, f.sha256) : log_record(e, f.status, "", f.reason);
    if (f.failed_for_good) {
      res.errors.push_back(r.uri + ": " + f.reason);
      log("ctsqs verify: " + res.errors.back());
    }
    emit(r);
    ++prog.logs_done;
    co_return f.retryable;
  }

  asio::awaitable<VerifyResult> run() {
    const SysTime digests_until = opt.until + hours(1) + seconds(1);
    prog.phase = "listing";
    // (No braced lists in a co_await's arguments: g++ 12.)
    std::vector<std::string> digest_kinds, log_kinds;
    digest_kinds.push_back("CloudTrail-Digest");
    digest_kinds.push_back("CloudTrail-Insight-Digest");
    log_kinds.push_back("CloudTrail");
    log_kinds.push_back("CloudTrail-Insight");
    bool listed = co_await list(std::move(digest_kinds), opt.since, digests_until, &digest_objects);
    if (listed && !opt.digests_only) listed = co_await list(std::move(log_kinds), opt.since, opt.until, &log_objects);
    if (!listed) {
      res.interrupted = stop;
      co_return res;
    }
    // Only digest files (not other objects of the digest folders).
    std::erase_if(digest_objects, [](const ListedLog& l) { return !parse_digest_key(l.object.key); });
    res.digests_listed = digest_objects.size();
    res.logs_listed = log_objects.size();
    prog.digests_total = digest_objects.size();

    prog.phase = "keys";
    std::set<std::string> homes;
    for (const auto& l : digest_objects) homes.insert(parse_digest_key(l.object.key)->home_region);
    for (const auto& h : homes) co_await load_keys(h);

    prog.phase = "digests";
    checked.resize(digest_objects.size());
    co_await run_pool(digest_objects.size(), [this](std::size_t i) { return digest_job(i); });
    if (stop) {
      res.interrupted = true;
      co_return res;
    }

    // Walk each folder.
    std::map<std::string, WalkInput> folders;
    for (auto& c : checked) {
      const auto& k = c.where->layout;
      auto& in = folders[folder_of(k)];
      in.account = k.account;
      in.region = k.region;
      in.digests.push_back(std::move(c));
    }
    for (const auto& l : log_objects) {
      auto k = parse_log_key(l.object.key);
      if (!k || !k->file_time) continue;
      auto it = folders.find(folder_of(*k));
      if (it == folders.end()) {  // no digest at all there: validation off, nothing to claim
        if (*k->file_time >= opt.since && *k->file_time < opt.until) ++res.logs_uncovered;
        continue;
      }
      it->second.logs.push_back({l.object.key, *k->file_time});
    }
    std::map<std::string, FileStatus> digest_status;
    std::map<std::string, std::pair<SysTime, SysTime>> digest_window;
    for (auto& [name, in] : folders) {
      in.bucket = opt.bucket;
      in.since = opt.since;
      in.until = opt.until;
      in.unlisted_margin = opt.unlisted_margin;
      for (const auto& d : in.digests)
        if (d.file) digest_window[d.uri()] = {d.file->start, d.file->end};
      auto w = walk_digest_chains(in);
      for (const auto& r : w.digests) {
        emit(r);
        digest_status[r.uri] = r.status;
      }
      for (const auto& r : w.gaps) emit(r);
      for (const auto& r : w.unlisted) emit(r);
      res.logs_uncovered += w.uncovered;
      for (auto& e : w.logs) expectations.push_back(std::move(e));
    }
    for (const auto& [uri, st] : digest_status) {
      if (st != FileStatus::valid) continue;
      auto it = digest_window.find(uri);
      if (it == digest_window.end()) continue;
      const SysTime from = std::max(it->second.first, opt.since), to = std::min(it->second.second, opt.until);
      if (!res.counts.found || from < res.counts.found_from) res.counts.found_from = from;
      if (!res.counts.found || to > res.counts.found_to) res.counts.found_to = to;
      res.counts.found = true;
    }

    res.bucket_region = bucket_region;
    if (opt.digests_only) {  // the caller decides what to do with the listed files
      res.listed = std::move(expectations);
      prog.phase = "done";
      co_return res;
    }
    prog.phase = "logs";
    prog.logs_total = expectations.size();
    co_await run_pool(expectations.size(), [this](std::size_t i) { return log_job(i); });
    res.interrupted = stop;
    prog.phase = "done";
    co_return res;
  }
};

TrailVerifier::TrailVerifier(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrailVerifier::~TrailVerifier() = default;

result<std::unique_ptr<TrailVerifier>> TrailVerifier::create(CollectorConfig config, asio::any_io_executor executor,
                                                             VerifyOptions options, Diagnostics& diag) {
  auto impl = std::make_shared<Impl>(executor);
  impl->log = options.log ? options.log : [](std::string_view l) { std::cerr << l << '\n'; };
  if (options.bucket.empty()) return invalid(diag, "verify: --bucket is required");
  if (options.until == SysTime{}) options.until = floor<minutes>(system_clock::now()) + minutes(1);
  if (options.until <= options.since)
    return invalid(diag, "verify: --until " + format_backfill_time(options.until) + " is not after --since " +
                             format_backfill_time(options.since));
  if (!options.prefix.empty() && options.prefix.back() != '/') options.prefix += '/';
  config.queue_required = false;
  if (auto v = validate(config, diag); !v) {
    diag.message = "invalid configuration:\n" + diag.message;
    return v.error();
  }
  auto client = make_aws_client(config, executor, impl->log, diag);
  if (!client) return invalid(diag, diag.message);
  impl->client = std::move(*client);
  S3ObjectStoreOptions so;
  so.force_path_style = config.aws.s3_force_path_style;
  impl->store = std::make_unique<S3ObjectStore>(*impl->client, so);
  if (detail::DecodePool::resolve(config.concurrency.decode_threads) > 1)
    impl->hash_pool = std::make_unique<detail::DecodePool>(config.concurrency.decode_threads);
  impl->config = std::move(config);
  impl->opt = std::move(options);
  return std::make_unique<TrailVerifier>(std::move(impl));
}

asio::awaitable<VerifyResult> TrailVerifier::async_run() {
  auto self = impl_;
  co_return co_await self->run();
}

asio::any_io_executor TrailVerifier::get_executor() const { return impl_->ex; }

void TrailVerifier::request_stop() {
  impl_->stop = true;
  if (impl_->scanner) impl_->scanner->stop();
}

TrailVerifier::Progress TrailVerifier::progress() const { return impl_->prog; }
const VerifyOptions& TrailVerifier::options() const noexcept { return impl_->opt; }

std::string format_progress(const TrailVerifier::Progress& p) {
  return "verify: " + p.phase + ", digests " + std::to_string(p.digests_done) + "/" + std::to_string(p.digests_total) +
         ", log files " + std::to_string(p.logs_done) + "/" + std::to_string(p.logs_total) + ", " +
         format_si(static_cast<double>(p.bytes), "B");
}

}  // namespace ctsqs::integrity
