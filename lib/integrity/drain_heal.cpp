// DrainHeal: digests' holes looked up, waited for, claimed and delivered through the collector's
// pipeline (a queue, a store, a planner and a decoder factory wrapped around the collector's own).
#include "ctsqs/integrity/drain_heal.hpp"

#include "ctsqs/integrity/gunzip_sha256.hpp"
#include "ctsqs/ledger/ledger.hpp"
#include "ctsqs/collector/metrics.hpp"

#include "../collector_async.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>
#include <cstdio>
#include <iostream>
#include <random>

namespace ctsqs::integrity {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

std::string describe(const Hole& h) { return h.uri() + " (digest " + h.digest + ")"; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string duration_text(std::chrono::seconds s) {
  const auto n = s.count();
  if (n > 0 && n % 3600 == 0) return std::to_string(n / 3600) + "h";
  if (n > 0 && n % 60 == 0) return std::to_string(n / 60) + "m";
  return std::to_string(n) + "s";
}

/// The events of a report message, whatever the message carried.
class ReportDecoder final : public PayloadDecoder {
 public:
  explicit ReportDecoder(std::vector<Event> events) : events_(std::move(events)) {}
  result<void> feed(std::string_view, std::vector<Event>&, Diagnostics&) override { return {}; }
  result<void> finish(std::vector<Event>& out, Diagnostics&) override {
    for (auto& e : events_) out.push_back(std::move(e));
    events_.clear();
    return {};
  }

 private:
  std::vector<Event> events_;
};

std::string random_tag() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

}  // namespace

struct DrainHeal::Impl : std::enable_shared_from_this<DrainHeal::Impl> {
  Impl(asio::any_io_executor e, Ledger& l, Metrics& m, DrainHealOptions o)
      : ex(e), ledger(l), metrics(m), opt(std::move(o)), book(random_tag()), wake(e), closed_event(e) {
    if (!opt.log) opt.log = [](std::string_view line) { std::cerr << line << '\n'; };
  }

  asio::any_io_executor ex;
  Ledger& ledger;
  Metrics& metrics;
  DrainHealOptions opt;
  std::weak_ptr<DrainIntegrity> integrity;
  HoleBook book;
  std::deque<VerifiedDigest> arrivals;
  int busy = 0;  // a digest's lookup in progress (popped from arrivals, not yet in the book)
  bool pumping = false, closed = false;
  asio::steady_timer wake;
  detail::AsyncEvent closed_event;
  HealSummary summary;

  void log(const std::string& s) { opt.log(s); }

  void arrived(VerifiedDigest d) {
    if (closed || d.files.empty()) return;
    arrivals.push_back(std::move(d));
    if (!pumping) {
      pumping = true;
      asio::co_spawn(ex, pump(), asio::detached);
    } else {
      wake.cancel();
    }
  }

  /// One ledger call for `holes`: the records found, or nullopt (logged) when it failed.
  asio::awaitable<std::optional<std::vector<bool>>> recorded(const std::vector<Hole>& holes, std::string what) {
    std::vector<ObjectRef> refs;
    for (const auto& h : holes) {
      ObjectRef r;
      r.bucket = h.bucket;
      r.key = h.key;
      refs.push_back(std::move(r));
    }
    Diagnostics d;
    auto found = co_await ledger.async_lookup(std::move(refs), d);
    if (!found || found->size() != holes.size()) {
      metrics.ledger_errors.fetch_add(1, std::memory_order_relaxed);
      log("ctsqs: heal: ledger " + ledger.describe() + ": lookup of " + what + " failed (" +
          (found ? std::string("wrong answer size") : found.error().message()) + (d.empty() ? "" : " — " + to_string(d)) +
          ")");
      co_return std::nullopt;
    }
    std::vector<bool> out;
    for (const auto& r : *found) out.push_back(r.has_value());
    co_return out;
  }

  // A digest arrived: its files the ledger does not hold wait the grace.
  asio::awaitable<void> arrive(VerifiedDigest d) {
    std::vector<Hole> listed;
    for (auto& f : d.files) listed.push_back(Hole{f.bucket, f.key, f.sha256, d.uri});
    auto found = co_await recorded(listed, "the " + std::to_string(listed.size()) + " file(s) of digest " + d.uri);
    if (!found) {
      log("ctsqs: heal: the files of " + d.uri + " are not healed here (`ctsqs audit --heal` finds what is missing)");
      co_return;
    }
    std::vector<Hole> absent;
    for (std::size_t i = 0; i < listed.size(); ++i)
      if (!(*found)[i]) absent.push_back(std::move(listed[i]));
    if (absent.empty()) co_return;
    const auto taken = book.wait(std::move(absent), steady::now() + opt.grace);
    if (taken.empty()) co_return;
    log("ctsqs: heal: digest " + d.uri + " lists " + std::to_string(taken.size()) +
        " log file(s) the ledger does not hold; looking again in " + duration_text(opt.grace) +
        " (their notifications may trail the digest)");
  }

  // The grace of `due` ended: one lookup for all, then a claim per file still missing.
  asio::awaitable<void> check(std::vector<Hole> due) {
    auto found = co_await recorded(due, std::to_string(due.size()) + " hole(s) after the grace");
    std::map<std::string, std::size_t> filled;  // per digest
    const auto now = std::chrono::system_clock::now();
    for (std::size_t i = 0; i < due.size(); ++i) {
      const auto& h = due[i];
      if (found && (*found)[i]) {
        ++filled[h.digest];
        book.drop(h.uri());
        continue;
      }
      // A failed lookup: the claim says whether it was recorded since (or fails, and the hole is
      // delivered all the same: at least once).
      LedgerClaim c;
      c.bucket = h.bucket;
      c.key = h.key;
      c.claimant = opt.claimant;
      c.now = now;
      c.until = now + opt.claim_for;
      Diagnostics cd;
      auto claimed = co_await ledger.async_claim(std::move(c), cd);
      if (claimed && *claimed == ClaimOutcome::already_delivered) {
        ++filled[h.digest];
        book.drop(h.uri());
        continue;
      }
      if (claimed && *claimed == ClaimOutcome::held_by_other) {
        log("ctsqs: heal: " + describe(h) + " is claimed by another collector: left to it");
        book.drop(h.uri());
        continue;
      }
      if (!claimed) {
        metrics.ledger_errors.fetch_add(1, std::memory_order_relaxed);
        log("ctsqs: heal: claim of " + h.uri() + " failed (" + claimed.error().message() +
            (cd.empty() ? "" : " — " + to_string(cd)) + "); delivering it all the same");
      }
      metrics.holes_found.fetch_add(1, std::memory_order_relaxed);
      log("ctsqs: heal: hole " + describe(h) + ": no notification brought it within " + duration_text(opt.grace) +
          " of its digest; delivering it from the bucket");
      if (auto ig = integrity.lock()) ig->expect_late_read(h.bucket, h.key);
      book.queue(h.uri());
    }
    for (const auto& [digest, n] : filled)
      log("ctsqs: heal: " + std::to_string(n) + " file(s) of " + digest +
          " were delivered by their notifications during the grace");
  }

  asio::awaitable<void> pump() {
    auto self = shared_from_this();
    while (!closed) {
      if (!arrivals.empty()) {
        auto d = std::move(arrivals.front());
        arrivals.pop_front();
        ++busy;
        co_await arrive(std::move(d));
        --busy;
        continue;
      }
      auto due = book.take_due(steady::now());
      if (!due.empty()) {
        ++busy;
        co_await check(std::move(due));
        --busy;
        continue;
      }
      const auto next = book.next_due();
      if (!next) break;  // nothing waits: started again by the next digest
      wake.expires_at(*next);
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    pumping = false;
    closed_event.notify_all();
  }

  void report(const Hole& h, std::string kind, std::string reason) {
    IntegrityFinding f{std::move(kind), h.uri(), h.digest, std::move(reason)};
    std::vector<Event> ev;
    ev.push_back(make_integrity_event(f, opt.collector_id));
    book.report(std::move(ev));
  }

  void finished(FinishedHeal f) {
    const auto& h = f.hole;
    if (auto i = integrity.lock()) i->forget_read(h.bucket, h.key);
    switch (f.end) {
      case HealEnd::healed: {
        metrics.holes_healed.fetch_add(1, std::memory_order_relaxed);
        summary.healed.push_back(describe(h));
        const bool known = !f.sha256.empty() && h.sha256.size() == 64;
        const bool matches = known && f.sha256 == lower(h.sha256);
        const std::string hash_note = !known  ? "its SHA-256 could not be compared with the digest's"
                                      : matches ? "its SHA-256 matches the digest's"
                                                : "its SHA-256 differs from the digest's";
        log("ctsqs: heal: healed " + describe(h) + ": delivered and recorded; " + hash_note);
        report(h, "healed", "no notification brought it; delivered from the bucket after the grace; " + hash_note);
        if (known && !matches) {
          metrics.integrity_findings.fetch_add(1, std::memory_order_relaxed);
          const std::string why =
              "SHA-256 of the uncompressed content read " + f.sha256 + ", the digest says " + h.sha256.substr(0, 80);
          log("ctsqs: integrity: mismatch " + describe(h) + ": " + why);
          report(h, "mismatch", why);
        }
        break;
      }
      case HealEnd::filled_meanwhile:
        log("ctsqs: heal: " + describe(h) + " was recorded by another delivery before the heal read it");
        break;
      case HealEnd::evidence_missing:
        metrics.evidence_missing.fetch_add(1, std::memory_order_relaxed);
        summary.evidence_missing.push_back(describe(h));
        log("ctsqs: heal: evidence missing: " + describe(h) +
            ": listed by the digest, no longer in the bucket (" + f.why + "); given up, not retried");
        report(h, "evidence_missing", "listed by the digest, no longer in the bucket: " + f.why);
        break;
      case HealEnd::failed:
        summary.failed.push_back(describe(h) + ": " + f.why);
        log("ctsqs: heal: " + describe(h) + " could not be healed: " + f.why + "; given up");
        report(h, "heal_failed", f.why);
        break;
    }
  }
};

namespace {

using Impl = DrainHeal::Impl;

/// The collector's queue with the book's messages beside it.
class HealingQueue final : public MessageQueue {
 public:
  HealingQueue(std::shared_ptr<Impl> impl, MessageQueue& inner) : impl_(std::move(impl)), inner_(inner) {}

  asio::awaitable<result<std::vector<SqsMessage>>> async_receive(int max_messages, Diagnostics& diag) override {
    auto impl = impl_;
    if (auto mine = impl->book.receive(max_messages, steady::now()); !mine.empty()) co_return mine;
    auto r = co_await inner_.async_receive(max_messages, diag);
    // A poll that came back empty while heals became ready: hand them out instead.
    if (r && r->empty())
      if (auto mine = impl->book.receive(max_messages, steady::now()); !mine.empty()) co_return mine;
    co_return r;
  }

  asio::awaitable<result<std::vector<BatchEntryFailure>>> async_delete(std::vector<std::string> handles,
                                                                      Diagnostics& diag) override {
    auto impl = impl_;
    std::vector<std::string> theirs;
    std::vector<BatchEntryFailure> failures;
    for (auto& h : handles) {
      std::optional<FinishedHeal> f;
      if (!h.starts_with(HoleBook::receipt_prefix)) {
        theirs.push_back(std::move(h));
      } else if (!impl->book.deleted(h, f)) {
        failures.push_back({h, "ReceiptHandleIsInvalid", "not in flight", true});
      } else if (f) {
        impl->finished(std::move(*f));
      }
    }
    if (theirs.empty()) co_return failures;
    auto r = co_await inner_.async_delete(std::move(theirs), diag);
    if (!r) co_return r;
    failures.insert(failures.end(), r->begin(), r->end());
    co_return failures;
  }

  asio::awaitable<result<std::vector<BatchEntryFailure>>> async_change_visibility(std::vector<VisibilityChange> changes,
                                                                                 Diagnostics& diag) override {
    auto impl = impl_;
    std::vector<VisibilityChange> theirs;
    std::vector<BatchEntryFailure> failures;
    for (auto& c : changes) {
      std::optional<FinishedHeal> f;
      if (!c.receipt_handle.starts_with(HoleBook::receipt_prefix)) {
        theirs.push_back(std::move(c));
      } else if (!impl->book.change_visibility(c.receipt_handle, c.timeout, steady::now(), f)) {
        failures.push_back({c.receipt_handle, "ReceiptHandleIsInvalid", "not in flight", true});
      } else if (f) {
        impl->finished(std::move(*f));
      }
    }
    if (theirs.empty()) co_return failures;
    auto r = co_await inner_.async_change_visibility(std::move(theirs), diag);
    if (!r) co_return r;
    failures.insert(failures.end(), r->begin(), r->end());
    co_return failures;
  }

  // The heals count as delayed messages, and the wait they need as the queue's visibility
  // timeout: a drain polls on until they are done.
  asio::awaitable<result<QueueCounts>> async_queue_counts(Diagnostics& diag) override {
    auto impl = impl_;
    auto c = co_await inner_.async_queue_counts(diag);
    if (!c) co_return c;
    const auto mine = impl->book.pending() + impl->arrivals.size() + static_cast<std::size_t>(impl->busy);
    if (mine == 0) co_return c;
    c->delayed += static_cast<std::int64_t>(mine);
    const auto now = steady::now();
    const auto wait =
        std::chrono::duration_cast<std::chrono::seconds>(impl->book.latest_wait(now) - now) + std::chrono::seconds(5);
    c->visibility_timeout = std::max(c->visibility_timeout.value_or(std::chrono::seconds(0)), wait);
    co_return c;
  }

  void note_outcome(const std::string& receipt_handle, MessageOutcome outcome) override {
    if (receipt_handle.starts_with(HoleBook::receipt_prefix))
      impl_->book.note_outcome(receipt_handle, outcome);
    else
      inner_.note_outcome(receipt_handle, outcome);
  }

 private:
  std::shared_ptr<Impl> impl_;
  MessageQueue& inner_;
};

/// The collector's store; the fetch of a heal in flight is watched (its error, its SHA-256).
class HealingStore final : public ObjectStore {
 public:
  HealingStore(std::shared_ptr<Impl> impl, ObjectStore& inner) : impl_(std::move(impl)), inner_(inner) {}

  asio::awaitable<result<void>> async_fetch(ObjectRef object, ObjectChunkHandler on_chunk, Diagnostics& diag) override {
    return async_fetch_with_head(std::move(object), std::move(on_chunk), nullptr, diag);
  }

  asio::awaitable<result<void>> async_fetch_with_head(ObjectRef object, ObjectChunkHandler on_chunk, HttpResponse* head,
                                                      Diagnostics& diag) override {
    auto impl = impl_;
    if (!impl->book.fetching(object.bucket, object.key))
      co_return co_await inner_.async_fetch_with_head(std::move(object), std::move(on_chunk), head, diag);
    struct Hash {
      GunzipSha256 sha;
      bool failed = false;
    };
    auto hash = std::make_shared<Hash>();
    ObjectChunkHandler watched = [hash, on_chunk = std::move(on_chunk)](std::span<const std::byte> chunk) {
      if (!hash->failed) {
        Diagnostics hd;
        if (!hash->sha.update(chunk, hd)) hash->failed = true;  // the decoder judges the content
      }
      return on_chunk(chunk);
    };
    const std::string bucket = object.bucket, key = object.key;
    auto r = co_await inner_.async_fetch_with_head(std::move(object), std::move(watched), head, diag);
    std::string sha;
    if (r && !hash->failed) {
      Diagnostics hd;
      if (auto s = hash->sha.finish(hd)) sha = std::move(*s);
    }
    impl->book.fetched(bucket, key, r ? error_code{} : r.error(),
                       r ? std::string() : (diag.message.empty() ? r.error().message() : to_string(diag)),
                       std::move(sha));
    co_return r;
  }

 private:
  std::shared_ptr<Impl> impl_;
  ObjectStore& inner_;
};

/// The collector's ledger; records of healed files get the SHA-256 their fetch computed.
class HealingLedger final : public Ledger {
 public:
  HealingLedger(std::shared_ptr<Impl> impl, Ledger& inner) : impl_(std::move(impl)), inner_(inner) {}
  std::string describe() const override { return inner_.describe(); }
  asio::awaitable<result<std::vector<std::optional<LedgerRecord>>>> async_lookup(std::vector<ObjectRef> objects,
                                                                                 Diagnostics& diag) override {
    return inner_.async_lookup(std::move(objects), diag);
  }
  asio::awaitable<result<void>> async_record(std::vector<LedgerRecord> records, Diagnostics& diag) override {
    for (auto& r : records)
      if (r.sha256.empty()) r.sha256 = impl_->book.read_sha256(r.bucket, r.key);
    return inner_.async_record(std::move(records), diag);
  }
  asio::awaitable<result<ClaimOutcome>> async_claim(LedgerClaim claim, Diagnostics& diag) override {
    return inner_.async_claim(std::move(claim), diag);
  }

 private:
  std::shared_ptr<Impl> impl_;
  Ledger& inner_;
};

}  // namespace

DrainHeal::DrainHeal(asio::any_io_executor executor, Ledger& ledger, Metrics& metrics, DrainHealOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), ledger, metrics, std::move(options))) {}

DrainHeal::~DrainHeal() = default;

void DrainHeal::set_integrity(std::shared_ptr<DrainIntegrity> integrity) { impl_->integrity = integrity; }

void DrainHeal::digest_verified(VerifiedDigest digest) { impl_->arrived(std::move(digest)); }

std::unique_ptr<MessageQueue> DrainHeal::wrap(MessageQueue& inner) { return std::make_unique<HealingQueue>(impl_, inner); }

std::unique_ptr<ObjectStore> DrainHeal::wrap(ObjectStore& inner) { return std::make_unique<HealingStore>(impl_, inner); }

std::unique_ptr<Ledger> DrainHeal::wrap(Ledger& inner) { return std::make_unique<HealingLedger>(impl_, inner); }

MessagePlanner DrainHeal::wrap(MessagePlanner inner) {
  return [impl = impl_, inner = std::move(inner)](const SqsMessage& m, Diagnostics& diag) -> result<MessagePlan> {
    if (m.receipt_handle.starts_with(HoleBook::receipt_prefix)) {
      if (auto p = impl->book.plan(m.receipt_handle)) return std::move(*p);
    }
    return inner(m, diag);
  };
}

PayloadDecoderFactory DrainHeal::wrap(PayloadDecoderFactory inner) {
  return [impl = impl_, inner = std::move(inner)](const ObjectRef& object,
                                                  std::string_view source) -> std::unique_ptr<PayloadDecoder> {
    if (object.key.empty() && source.starts_with(HoleBook::report_source)) {
      const auto* events = impl->book.report_events(source);
      return std::make_unique<ReportDecoder>(events ? *events : std::vector<Event>{});
    }
    return inner(object, source);
  };
}

asio::awaitable<void> DrainHeal::async_close() {
  auto impl = impl_;
  impl->closed = true;
  impl->wake.cancel();
  while (impl->pumping) co_await impl->closed_event.wait();
  impl->arrivals.clear();
  for (const auto& h : impl->book.abandon()) {
    if (auto i = impl->integrity.lock()) i->forget_read(h.bucket, h.key);
    impl->summary.unfinished.push_back(describe(h));
    impl->log("ctsqs: heal: not healed, the run ended first: " + describe(h) +
              " (`ctsqs audit --heal` delivers it; its claim lapses)");
  }
}

HealSummary DrainHeal::summary() const { return impl_->summary; }

}  // namespace ctsqs::integrity
