// BucketScanner: ListObjectsV2 over CloudTrail's key layout (accounts, regions, day prefixes of
// the range, every page). BackfillQueue is in backfill_queue.cpp.
#include "collector_async.hpp"
#include "detail/text.hpp"
#include "ctsqs/aws/client.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/aws/retry.hpp"
#include "ctsqs/aws/s3/list_objects.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <charconv>
#include <deque>

namespace ctsqs {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

bool twelve_digits(std::string_view s) { return s.size() == 12 && detail::all_digits(s); }

std::string day_path(sys_days d) {
  const year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d/%02u/%02u/", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

// Whether a listed object of a day is one of the range's logs. CloudTrail files carry their
// time in the name and are kept by it; GuardDuty exports (`<uuid>.jsonl.gz`) do not, so a day
// that overlaps the range is read whole.
enum class Fit { not_a_log, out_of_range, in_range };
Fit fit(const LogKey& k, std::string_view key, const BackfillRange& range) {
  if (k.kind == "GuardDuty") {
    if (!key.ends_with(".jsonl.gz")) return Fit::not_a_log;
    const SysTime day_start{sys_days{year_month_day{year{k.year}, month{static_cast<unsigned>(k.month)},
                                                    std::chrono::day{static_cast<unsigned>(k.day)}}}};
    return day_start < range.until && day_start + hours(24) > range.since ? Fit::in_range : Fit::out_of_range;
  }
  if (!key.ends_with(".json.gz") || !k.file_time) return Fit::not_a_log;
  return *k.file_time < range.since || *k.file_time >= range.until ? Fit::out_of_range : Fit::in_range;
}

std::string day_label(const LogKey& k) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", k.year, k.month, k.day);
  return k.account + " " + k.region + " " + buf + (k.kind == "CloudTrail" ? "" : " " + k.kind);
}

/// The last path segment of a common prefix ("a/b/c/" -> "c").
std::string_view last_segment(std::string_view cp, std::string_view parent) {
  if (!cp.starts_with(parent)) return {};
  auto rest = cp.substr(parent.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return rest;
}

}  // namespace

struct BucketScanner::Impl : std::enable_shared_from_this<BucketScanner::Impl> {
  AwsClient& client;
  BackfillRange range;
  BucketScannerOptions options;
  const BackfillState* state;
  std::string region;  // the bucket's region (a redirect may change it once); "" -> us-east-1
  bool redirected = false;
  bool stopped = false;  // the day handler asked to stop, or stop() was called
  ScanTotals totals;
  std::set<asio::steady_timer*> waits;  // outage waits in progress (stop() cuts them)
  JitterSource jitter = default_jitter();

  Impl(AwsClient& c, BackfillRange r, BucketScannerOptions o, const BackfillState* s)
      : client(c), range(std::move(r)), options(std::move(o)), state(s),
        region(c.region().empty() ? "us-east-1" : c.region()) {}

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  /// One ListObjectsV2 page, with the bucket's region followed once and a 2xx body that does not
  /// parse (cut short) asked again.
  asio::awaitable<result<s3::ListObjectsV2Page>> page(std::string prefix, std::string delimiter, std::string token,
                                                      std::string start_after, Diagnostics& diag) {
    const std::string where = "listing s3://" + range.bucket + "/" + prefix;
    int outage_rounds = 0;
    int asked_there = 0;
    for (int attempt = 1;; ++attempt) {
      const auto& cfg = client.endpoint_config();
      auto ep = resolve_endpoint(AwsService::s3, region, cfg, client.env(), diag);
      if (!ep) co_return ep.error();
      s3::ListObjectsV2Params p;
      p.endpoint = *ep;
      p.bucket = range.bucket;
      p.prefix = prefix;
      p.delimiter = delimiter;
      p.continuation_token = token;
      p.start_after = start_after;
      p.force_path_style = options.force_path_style || cfg.s3_force_path_style;
      auto req = s3::make_list_objects_v2_request(p, diag);
      if (!req) co_return req.error();
      CallOptions co;
      co.operation = "ListObjectsV2";
      co.region = ep->signing_region.empty() ? region : ep->signing_region;
      Diagnostics d;
      ++totals.listings;
      auto resp = co_await client.async_call("s3", std::move(*req), co, d);
      if (!resp) {
        // The bucket's region first (S3's 301 may count as retryable): followed once, at once.
        std::string other = redirect_region(resp.error(), d);
        if (!other.empty() && !redirected && other != region) {
          redirected = true;
          log("ctsqs backfill: bucket " + range.bucket + " is in region " + other + " (not " + region +
              "): listing there");
          region = other;
          continue;
        }
        // Another listing followed it while this one was under way: ask again there.
        if (!other.empty() && other == region && ++asked_there <= 1) continue;
      }
      if (!resp && is_retryable(resp.error()) && outage_rounds < 4 && !stopped) {
        // An outage longer than the client's retries: a backfill runs for hours, so wait and
        // ask again (about 2, 4, 8, 16 s, each between half and one and a half of it, so the
        // listings that failed together do not ask again together) before giving it up.
        ++outage_rounds;
        const auto wait = duration_cast<milliseconds>(seconds(1 << outage_rounds) * (0.5 + jitter()));
        log("ctsqs backfill: " + where + ": " + (d.message.empty() ? resp.error().message() : d.message) +
            "; asking again in " + std::to_string(static_cast<double>(wait.count()) / 1000.0).substr(0, 4) + " s");
        asio::steady_timer t(co_await asio::this_coro::executor, wait);
        waits.insert(&t);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        waits.erase(&t);
        --attempt;
        continue;
      }
      if (!resp) {
        const error_code ec = resp.error();
        diag = d;
        diag.message = where + ": " + (d.message.empty() ? ec.message() : d.message);
        co_return ec;
      }
      Diagnostics pd;
      auto parsed = s3::parse_list_objects_v2_response(resp->body, pd);
      if (parsed) co_return std::move(*parsed);
      if (attempt >= 3) {
        diag = pd;
        diag.message = where + ": " + pd.message + " (after " + std::to_string(attempt) + " attempts)";
        co_return parsed.error();
      }
      log("ctsqs backfill: " + where + ": " + pd.message + "; asking again");
    }
  }

  /// Every page of a listing; `on_page` gets each.
  asio::awaitable<result<void>> list_all(std::string prefix, std::string delimiter, std::string start_after,
                                         std::function<void(const s3::ListObjectsV2Page&)> on_page, Diagnostics& diag) {
    std::string token;
    for (int pages = 0;; ++pages) {
      if (stopped) {
        diag.message = "listing s3://" + range.bucket + "/" + prefix + ": stopped";
        co_return make_error_code(client_errc::cancelled);
      }
      // No ?: in a co_await's arguments: g++ 12 destroys the temporary twice.
      std::string after;
      if (pages == 0) after = start_after;
      auto p = co_await page(prefix, delimiter, token, after, diag);
      if (!p) co_return p.error();
      on_page(*p);
      if (!p->is_truncated) co_return result<void>{};
      if (p->next_continuation_token == token || pages > 1000000) {
        diag.message = "listing s3://" + range.bucket + "/" + prefix +
                       ": S3 answered the same continuation token twice; stopped";
        co_return make_error_code(aws_errc::malformed_response);
      }
      token = p->next_continuation_token;
    }
  }

  asio::awaitable<result<std::vector<std::string>>> subdirs(std::string parent, Diagnostics& diag) {
    std::vector<std::string> out;
    auto r = co_await list_all(parent, "/", "", [&](const s3::ListObjectsV2Page& p) {
      out.insert(out.end(), p.common_prefixes.begin(), p.common_prefixes.end());
    }, diag);
    if (!r) co_return r.error();
    co_return out;
  }

  /// Account directories: `<base><account>/` and `<base>o-<org>/<account>/`.
  asio::awaitable<result<std::vector<std::string>>> account_dirs(const std::string& base, Diagnostics& diag) {
    auto top = co_await subdirs(base, diag);
    if (!top) co_return top.error();
    std::vector<std::string> out;
    std::set<std::string> found;
    for (const auto& cp : *top) {
      const auto seg = last_segment(cp, base);
      if (twelve_digits(seg)) {
        out.push_back(cp);
        found.insert(std::string(seg));
      } else if (seg.starts_with("o-")) {
        auto inner = co_await subdirs(cp, diag);
        if (!inner) co_return inner.error();
        for (const auto& a : *inner)
          if (auto s = last_segment(a, cp); twelve_digits(s)) {
            out.push_back(a);
            found.insert(std::string(s));
          }
      }
    }
    if (!range.accounts.empty()) {
      std::vector<std::string> kept;
      for (const auto& dir : out) {
        auto seg = dir.substr(0, dir.size() - 1);
        seg = seg.substr(seg.rfind('/') + 1);
        if (std::find(range.accounts.begin(), range.accounts.end(), seg) != range.accounts.end()) kept.push_back(dir);
      }
      for (const auto& a : range.accounts)
        if (!found.count(a)) {
          log("ctsqs backfill: " + std::string(options.accounts_required ? "" : "warning: ") + "account " + a +
              " has no logs under s3://" + range.bucket + "/" + base);
          if (options.accounts_required) totals.missing.push_back("account " + a + " (s3://" + range.bucket + "/" + base + ")");
        }
      out = std::move(kept);
    }
    if (found.empty()) {
      log("ctsqs backfill: no account under s3://" + range.bucket + "/" + base + " (check --prefix)");
      totals.missing.push_back("s3://" + range.bucket + "/" + base + " (no account under it; check --prefix)");
    }
    co_return out;
  }

  /// The day prefixes of the range: accounts, kinds, regions, days.
  asio::awaitable<result<std::vector<std::string>>> day_prefixes(Diagnostics& diag) {
    std::string base = range.prefix;
    if (!base.empty() && base.back() != '/') base += '/';
    base += "AWSLogs/";
    auto accounts = co_await account_dirs(base, diag);
    if (!accounts) co_return accounts.error();
    std::vector<std::string> regions_found;
    std::set<std::string> region_names;
    for (const auto& acct : *accounts)
      for (const auto& kind : range.kinds) {
        const std::string kind_dir = acct + kind + "/";
        Diagnostics kd;
        auto regions = co_await subdirs(kind_dir, kd);
        if (!regions && (regions.error() == client_errc::cancelled || stopped)) {
          diag = kd;
          co_return regions.error();
        }
        if (!regions) {
          log("ctsqs backfill: listing failed: " + kd.message + "; the other listings go on");
          totals.failed_listings.push_back(kd.message.empty() ? regions.error().message() : kd.message);
          continue;
        }
        for (const auto& reg : *regions) {
          const auto name = last_segment(reg, kind_dir);
          region_names.insert(std::string(name));
          if (range.regions.empty() ||
              std::find(range.regions.begin(), range.regions.end(), name) != range.regions.end())
            regions_found.push_back(reg);
        }
      }
    if (!accounts->empty())
      for (const auto& r : range.regions)
        if (!region_names.count(r)) {
          log("ctsqs backfill: region " + r + " has no logs in s3://" + range.bucket + "/" + base);
          totals.missing.push_back("region " + r);
        }
    // The days that exist in each region, found with delimiter listings (years, months, days)
    // and kept when in range: a few listings per region instead of one per day of the range;
    // `list_concurrency` regions at once.
    auto exec = co_await asio::this_coro::executor;  // (no co_await inside argument lists: g++ 12)
    auto sh = std::make_shared<Shared>(exec);
    sh->todo.assign(regions_found.begin(), regions_found.end());
    auto days = std::make_shared<std::vector<std::string>>();
    const std::size_t n = std::max<std::size_t>(1, std::min(options.list_concurrency, sh->todo.size()));
    for (std::size_t i = 0; i < n; ++i) {
      ++sh->running;
      asio::co_spawn(exec, discover_worker(shared_from_this(), sh, days), asio::detached);
    }
    while (sh->running > 0) co_await sh->changed.wait();
    if (sh->first_error) {
      diag = sh->first_diag;
      co_return sh->first_error;
    }
    std::sort(days->begin(), days->end());
    co_return *days;
  }

  /// A listing that failed for good: named in the totals, the other listings go on (a stop
  /// ends them all).
  struct Shared;
  void listing_failed(Shared& sh, const error_code& ec, const Diagnostics& d) {
    if (ec == client_errc::cancelled || stopped) {
      if (!sh.first_error) {
        sh.first_error = ec;
        sh.first_diag = d;
      }
      return;
    }
    const std::string what = d.message.empty() ? ec.message() : d.message;
    log("ctsqs backfill: listing failed: " + what + "; the other listings go on");
    totals.failed_listings.push_back(what);
  }

  struct Shared {
    std::deque<std::string> todo;
    std::size_t running = 0;
    error_code first_error;
    Diagnostics first_diag;
    detail::AsyncEvent changed;
    explicit Shared(asio::any_io_executor e) : changed(std::move(e)) {}
  };

  static asio::awaitable<void> scan_worker(std::shared_ptr<Impl> self, std::shared_ptr<Shared> sh, DayHandler* on_day) {
    while (!sh->todo.empty() && !sh->first_error && !self->stopped) {
      auto day = std::move(sh->todo.front());
      sh->todo.pop_front();
      Diagnostics d;
      auto r = co_await self->scan_day(day, *on_day, d);
      if (!r) self->listing_failed(*sh, r.error(), d);
    }
    --sh->running;
    sh->changed.notify_all();
  }

  asio::awaitable<result<void>> region_days(std::string reg, std::vector<std::string>& out, Diagnostics& diag) {
    const auto first = floor<std::chrono::days>(range.since);
    const auto last = floor<std::chrono::days>(range.until - nanoseconds(1));
    const std::string first_day = day_path(first), last_day = day_path(last);  // "YYYY/MM/DD/"
    auto years = co_await subdirs(reg, diag);
    if (!years) co_return years.error();
    for (const auto& y : *years) {
      const std::string ys = std::string(last_segment(y, reg));
      if (ys.size() != 4 || ys < first_day.substr(0, 4) || ys > last_day.substr(0, 4)) continue;
      auto months = co_await subdirs(y, diag);
      if (!months) co_return months.error();
      for (const auto& m : *months) {
        const std::string ym = ys + "/" + std::string(last_segment(m, y));
        if (ym.size() != 7 || ym < first_day.substr(0, 7) || ym > last_day.substr(0, 7)) continue;
        auto ds = co_await subdirs(m, diag);
        if (!ds) co_return ds.error();
        for (const auto& d : *ds) {
          const std::string ymd = ym + "/" + std::string(last_segment(d, m)) + "/";
          if (ymd.size() != 11 || ymd < first_day || ymd > last_day) continue;
          out.push_back(d);
        }
      }
    }
    co_return result<void>{};
  }

  static asio::awaitable<void> discover_worker(std::shared_ptr<Impl> self, std::shared_ptr<Shared> sh,
                                               std::shared_ptr<std::vector<std::string>> days) {
    while (!sh->todo.empty() && !sh->first_error && !self->stopped) {
      auto reg = std::move(sh->todo.front());
      sh->todo.pop_front();
      Diagnostics d;
      std::vector<std::string> found;
      auto r = co_await self->region_days(reg, found, d);
      if (!r) self->listing_failed(*sh, r.error(), d);
      days->insert(days->end(), found.begin(), found.end());
    }
    --sh->running;
    sh->changed.notify_all();
  }

  /// Lists one day prefix fully and hands its objects still to do on.
  asio::awaitable<result<void>> scan_day(std::string day, DayHandler& on_day, Diagnostics& diag) {
    if (state && state->day_complete(day)) {
      co_return result<void>{};
    }
    std::vector<ListedLog> logs;
    std::uint64_t listed = 0, not_logs = 0;  // objects of this day, and those that are no logs
    std::pair<std::uint64_t, std::uint64_t>* label = nullptr;  // this day's entry of totals.per_day
    const std::string after = state ? state->high_water(day) : std::string();
    auto r = co_await list_all(day, "", after, [&](const s3::ListObjectsV2Page& p) {
      for (const auto& o : p.objects) {
        ++listed;
        auto k = parse_log_key(o.key);
        const Fit f = k && k->day_prefix == day ? fit(*k, o.key, range) : Fit::not_a_log;
        if (f == Fit::not_a_log) {
          ++totals.not_logs;
          ++not_logs;
          continue;
        }
        if (f == Fit::out_of_range) {
          ++totals.out_of_range;
          continue;
        }
        if (state && state->done(day, o.key)) {
          ++totals.already_done;
          continue;
        }
        ListedLog l;
        l.day_prefix = day;
        l.object.bucket = range.bucket;
        l.object.key = o.key;
        l.object.region = region;
        l.object.size = o.size;
        l.object.etag = o.etag;
        ++totals.objects;
        totals.bytes += o.size;
        if (!label) label = &totals.per_day[day_label(*k)];  // the same for every object of the day
        auto& pd = *label;
        ++pd.first;
        pd.second += o.size;
        logs.push_back(std::move(l));
      }
    }, diag);
    if (!r) co_return r.error();
    ++totals.days;
    if (listed > 0 && not_logs == listed) {
      // Files, and not one log among them: a layout this scanner does not read (or a wrong
      // --prefix). Never recorded complete, so a fixed rerun reads the day.
      totals.days_without_logs.push_back(day);
      log("ctsqs backfill: warning: s3://" + range.bucket + "/" + day + " holds " + std::to_string(listed) +
          " object(s) and not one log of CloudTrail's layout; the day is skipped, not recorded");
      co_return result<void>{};
    }
    const bool go_on = co_await on_day(day, std::move(logs));
    if (!go_on) stopped = true;
    co_return result<void>{};
  }
};

BucketScanner::BucketScanner(AwsClient& client, BackfillRange range, BucketScannerOptions options,
                             const BackfillState* state)
    : impl_(std::make_shared<Impl>(client, std::move(range), std::move(options), state)) {}

asio::awaitable<result<ScanTotals>> BucketScanner::async_scan(DayHandler on_day, Diagnostics& diag) {
  auto self = impl_;
  self->totals = {};
  self->stopped = false;
  if (self->range.bucket.empty()) {
    diag.message = "backfill: no bucket";
    co_return make_error_code(client_errc::invalid_argument);
  }
  if (self->range.until <= self->range.since) {
    diag.message = "backfill: the range is empty (until " + format_backfill_time(self->range.until) +
                   " is not after since " + format_backfill_time(self->range.since) + ")";
    co_return make_error_code(client_errc::invalid_argument);
  }
  auto days = co_await self->day_prefixes(diag);
  if (!days) co_return days.error();

  // Workers over the day prefixes, `list_concurrency` at once (coroutine functions, not lambda
  // coroutines capturing shared_ptrs: see Backfill::async_run).
  auto ex = co_await asio::this_coro::executor;
  auto sh = std::make_shared<Impl::Shared>(ex);
  sh->todo.assign(days->begin(), days->end());
  const std::size_t n = std::max<std::size_t>(1, std::min(self->options.list_concurrency, sh->todo.size()));
  for (std::size_t i = 0; i < n; ++i) {
    ++sh->running;
    asio::co_spawn(ex, Impl::scan_worker(self, sh, &on_day), asio::detached);
  }
  while (sh->running > 0) co_await sh->changed.wait();
  if (sh->first_error) {
    diag = sh->first_diag;
    co_return sh->first_error;
  }
  co_return self->totals;
}

ScanTotals BucketScanner::totals() const { return impl_->totals; }

void BucketScanner::stop() {
  impl_->stopped = true;
  for (auto* t : impl_->waits) t->cancel();
}

}  // namespace ctsqs
