// Collector: a message's work (plan, objects fetched and decoded on the decode pool, events to
// the sink, the flush barrier) and the digest checks in passing.
#include "collector_impl.hpp"

namespace ctsqs {

asio::awaitable<void> Collector::Impl::worker(std::uint64_t seq, SqsMessage m, std::shared_ptr<Prepared> pre) {
  auto self = shared_from_this();
  MessageOutcome outcome = MessageOutcome::retryable_failure;
  std::string thrown;
  try {
    outcome = co_await process(m, pre);  // a copy: coroutine parameters by value
  } catch (const std::exception& e) {
    thrown = e.what();
  } catch (...) {
    thrown = "unknown exception";
  }
  if (!thrown.empty()) log("ctsqs: message " + m.message_id + ": failed, released: unexpected error: " + thrown);
  thrown.clear();
  const std::string id = m.message_id;
  try {
    co_await finish(seq, std::move(m), outcome);
  } catch (const std::exception& e) {
    thrown = e.what();
  } catch (...) {
    thrown = "unknown exception";
  }
  if (!thrown.empty()) {
    log("ctsqs: message " + id + ": failed, released: unexpected error while finishing it: " + thrown +
        "; it comes back when its visibility timeout ends");
    released_ids_.insert(id);
    remove(seq);
  }
  --workers_;
  changed_.notify_all();
}

asio::awaitable<MessageOutcome> Collector::Impl::process(SqsMessage m, std::shared_ptr<Prepared> pre) {
  // Whatever this message pushes comes after this mark: its barrier fails if any of it was lost.
  const std::uint64_t since = sink_worker_->mark();
  Diagnostics diag;
  if (pre && pre->plan) diag = pre->plan_diag;
  auto plan = pre && pre->plan ? std::move(*pre->plan) : planner_(m, diag);
  if (!plan) {
    log("ctsqs: message " + m.message_id + ": permanent failure: " +
        (plan.error() == notification_errc::refused ? "" : "unrecognised notification: ") +
        (diag.message.empty() ? plan.error().message() : diag.message));
    co_return MessageOutcome::permanent_failure;
  }
  switch (plan->kind) {
    case MessagePlan::Kind::test_event:
      log("ctsqs: message " + m.message_id + ": a test message (" + plan->note + "): deleted without delivery");
      co_return MessageOutcome::ignored;
    case MessagePlan::Kind::nothing:
      log("ctsqs: message " + m.message_id + ": nothing to collect (" + plan->note + "): deleted");
      co_return MessageOutcome::ignored;
    case MessagePlan::Kind::inline_records: {
      std::string doc = "{\"Records\":[";
      for (std::size_t i = 0; i < plan->inline_records.size(); ++i) {
        if (i) doc += ',';
        doc += plan->inline_records[i];
      }
      doc += "]}";
      auto dec = decoders_(ObjectRef{}, plan->inline_source);
      std::vector<Event> events;
      Diagnostics d;
      auto r = dec->feed(doc, events, d);
      if (r) r = dec->finish(events, d);
      metrics_.events_dropped.fetch_add(dec->filtered(), std::memory_order_relaxed);
      metrics_.events_retagged.fetch_add(dec->retagged(), std::memory_order_relaxed);
      if (!r) {
        log("ctsqs: message " + m.message_id + ": permanent failure: inline event not decodable: " + d.message);
        co_return MessageOutcome::permanent_failure;
      }
      co_await sink_worker_->push(std::move(events));
      break;
    }
    case MessagePlan::Kind::objects: {
      bool retry = false, permanent = false;
      std::vector<LedgerRecord> delivered;
      std::size_t skipped = 0;
      for (std::size_t i = 0; i < plan->objects.size(); ++i) {
        auto& obj = plan->objects[i];
        if (ledger_ && ledger_->delivered_before(obj, pre.get(), i, m.message_id)) {
          ++skipped;
          continue;
        }
        Diagnostics d;
        std::uint64_t events = 0;
        std::string sha256;
        const error_code ec = co_await fetch_object(obj, d, &events, &sha256);
        if (!ec) {
          if (ledger_) delivered.push_back(LedgerHook::record_of(obj, events, opts_.collector_id, std::move(sha256)));
          continue;
        }
        if (abandoned_) co_return MessageOutcome::retryable_failure;
        if (!is_message_failure(ec)) {
          // Not the message's fault: it comes back, uncounted, and the collector pauses.
          const bool environment = !is_retryable_failure(ec);
          log("ctsqs: " + describe_object(obj) + " (message " + m.message_id + "): will retry: " +
              (d.message.empty() ? ec.message() : to_string(d)) +
              (environment ? " (a failure of the collector's environment, not of the message: it does not count "
                             "towards on_permanent_error)"
                           : ""));
          if (ec != client_errc::cancelled) pause_receives(ec, d.message.empty() ? ec.message() : to_string(d));
          retry = true;
          break;  // the message comes back anyway
        }
        pause_streak_ = 0;
        log("ctsqs: " + describe_object(obj) + " (message " + m.message_id + ", receive " +
            std::to_string(m.receive_count) + "): permanent failure: " + (d.message.empty() ? ec.message() : to_string(d)));
        permanent = true;
      }
      // Every object delivered before: nothing was pushed, nothing to flush.
      if (!retry && skipped == plan->objects.size()) co_return MessageOutcome::delivered;
      if (retry) co_return MessageOutcome::retryable_failure;
      pause_streak_ = 0;
      if (!co_await flushed(since, m.message_id)) co_return MessageOutcome::retryable_failure;
      if (ledger_) co_await ledger_->record(std::move(delivered), m.message_id);
      co_return permanent ? MessageOutcome::permanent_failure : MessageOutcome::delivered;
    }
  }
  if (!co_await flushed(since, m.message_id)) co_return MessageOutcome::retryable_failure;
  co_return MessageOutcome::delivered;
}

asio::awaitable<bool> Collector::Impl::flushed(std::uint64_t since, const std::string& message_id) {
  std::string why;
  auto b = co_await sink_worker_->barrier(since, &why);
  if (!b)
    log("ctsqs: message " + message_id + ": sink flush failed (" + (why.empty() ? b.error().message() : why) +
        "); the message will come back");
  co_return static_cast<bool>(b);
}

asio::awaitable<result<void>> Collector::Impl::on_chunk(std::shared_ptr<FetchState> st, std::span<const std::byte> chunk) {
  metrics_.bytes_fetched.fetch_add(chunk.size(), std::memory_order_relaxed);
  result<void> r;
  // The chunk's bytes stay valid until this handler returns (the store reads no further).
  auto job = [&st, chunk, &r] {
    st->owner = reclaim_spent(*st);
    if (st->hash && !st->hash_failed) {
      Diagnostics hd;
      if (!st->hash->update(chunk, hd)) st->hash_failed = true;  // the decoder judges the object
    }
    std::string_view text(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    r = st->decoder->feed(text, st->batch, st->diag);
  };
  co_await decode(job);
  if (!r) co_return r.error();
  if (!st->batch.empty()) {
    st->batch_hint = st->batch.size();  // the next chunk yields about as many: no regrowth from empty
    st->events += st->batch.size();
    co_await sink_worker_->push(std::move(st->batch), true, st->owner);
    st->batch = {};
  }
  co_return result<void>{};
}

void Collector::Impl::adapt_objects_in_flight(AdaptiveConcurrency::clock::time_point started, const error_code& ec) {
  if (!opts_.concurrency.adaptive_objects_in_flight) return;
  const auto now = AdaptiveConcurrency::clock::now();
  // Permanent failures (a corrupt object) and cancellation say nothing about load.
  const bool retryable = ec && ec != make_error_code(client_errc::cancelled) && is_retryable_failure(ec);
  if (ec && !retryable) return;
  adaptive_.completed(now - started, retryable, now);
  obj_slots_.set_capacity(adaptive_.limit());
  metrics_.objects_in_flight_limit.store(adaptive_.limit(), std::memory_order_relaxed);
}

asio::awaitable<error_code> Collector::Impl::fetch_object(ObjectRef obj, Diagnostics& diag, std::uint64_t* events_out,
                                         std::string* sha256_out) {
  if (!co_await obj_slots_.acquire()) co_return make_error_code(client_errc::cancelled);
  const auto started = AdaptiveConcurrency::clock::now();
  adaptive_.started(metrics_.objects_in_flight.fetch_add(1, std::memory_order_relaxed) + 1);
  error_code ec = make_error_code(client_errc::cancelled);  // until the fetch says otherwise
  struct SlotGuard {  // given back however the fetch ends, an exception included
    Impl* impl;
    AdaptiveConcurrency::clock::time_point started;
    const error_code& ec;
    ~SlotGuard() {
      impl->metrics_.objects_in_flight.fetch_sub(1, std::memory_order_relaxed);
      impl->obj_slots_.release();
      impl->adapt_objects_in_flight(started, ec);
    }
  } slot_guard{this, started, ec};
  auto st = std::make_shared<FetchState>();
  st->sink = sink_worker_;
  st->decoder = decoders_(obj, {});
  st->digest = opts_.integrity && integrity::is_digest_key(obj.key);
  if (st->digest) {
    st->hash = std::make_unique<integrity::GunzipSha256>(std::size_t(64) << 20);
  } else if ((opts_.integrity && integrity::is_log_key(obj.key)) || ledger_) {
    // One inflate per object: the hash is taken from the decoder's inflated bytes.
    st->content_sha = std::make_unique<integrity::Sha256Stream>();
    if (!st->decoder->observe_content([sha = st->content_sha.get()](std::string_view b) { sha->update(b); })) {
      st->content_sha.reset();
      if (opts_.integrity && integrity::is_log_key(obj.key)) st->hash = std::make_unique<integrity::GunzipSha256>(0);
    }
  }
  ObjectChunkHandler handler = [this, st](std::span<const std::byte> c) { return on_chunk(st, c); };
  HttpResponse* head = nullptr;  // (no ?: in a co_await's arguments: g++ 12)
  if (st->digest) head = &st->head;
  auto r = co_await store_.async_fetch_with_head(obj, std::move(handler), head, diag);
  ec = {};
  if (!r) {
    ec = r.error();
    if (!st->diag.message.empty())
      diag = st->diag;  // the decoder's error is the useful one
    else
      metrics_.s3_errors.fetch_add(1, std::memory_order_relaxed);
  } else {
    // The end of the object: a gathered object is inflated and parsed whole here.
    result<void> f;
    auto job = [&st, &f] {
      st->owner = reclaim_spent(*st);
      f = st->decoder->finish(st->batch, st->diag);
      if (f && st->content_sha && st->decoder->content_observed()) st->sha256 = st->content_sha->finish_hex();
    };
    co_await decode(job);
    if (!f) {
      ec = f.error();
      diag = st->diag;
    }
  }
  if (!ec && (st->hash || st->content_sha)) ec = co_await check_integrity(obj, *st, diag);
  if (!st->batch.empty()) {
    st->events += st->batch.size();
    co_await sink_worker_->push(std::move(st->batch), true, st->owner);
  }
  metrics_.events_dropped.fetch_add(st->decoder->filtered(), std::memory_order_relaxed);
  metrics_.events_retagged.fetch_add(st->decoder->retagged(), std::memory_order_relaxed);
  if (ec) {
    metrics_.objects_failed.fetch_add(1, std::memory_order_relaxed);
  } else {
    metrics_.objects_fetched.fetch_add(1, std::memory_order_relaxed);
    if (st->decoder->skipped() != SkipReason::none) metrics_.objects_skipped.fetch_add(1, std::memory_order_relaxed);
  }
  if (events_out) *events_out = st->events;
  if (sha256_out) *sha256_out = std::move(st->sha256);
  co_return ec;
}

asio::awaitable<error_code> Collector::Impl::check_integrity(ObjectRef obj, FetchState& st, Diagnostics& diag) {
  if (!st.digest) {
    if (!opts_.integrity || !integrity::is_log_key(obj.key)) co_return error_code{};
    if (st.content_sha) {
      // Taken from the decoder's inflate: known only for a gzip object decoded whole (else, as
      // for a file that is not gzip, the digest check does not count it as read).
      if (!st.sha256.empty()) opts_.integrity->log_read(obj.bucket, obj.key, st.sha256);
      co_return error_code{};
    }
    Diagnostics hd;
    auto sha = st.hash_failed ? result<std::string>(make_error_code(client_errc::invalid_argument)) : st.hash->finish(hd);
    if (sha) opts_.integrity->log_read(obj.bucket, obj.key, std::move(*sha));
    co_return error_code{};
  }
  Diagnostics hd;
  auto sha = st.hash_failed ? result<std::string>(make_error_code(client_errc::invalid_argument)) : st.hash->finish(hd);
  const std::string name = "s3://" + obj.bucket + "/" + obj.key;
  std::vector<integrity::IntegrityFinding> findings;
  if (!sha) {
    findings.push_back({"invalid_digest", name, name, "invalid format: not gzip or cut short"});
  } else {
    Diagnostics idiag;
    auto r = co_await opts_.integrity->async_digest(obj.bucket, obj.key, st.hash->kept(), s3::user_metadata(st.head),
                                                    idiag);
    if (!r) {
      diag = idiag;
      diag.message = name + ": digest not verified: " + idiag.message;
      co_return r.error();
    }
    findings = std::move(*r);
    metrics_.integrity_digests_verified.fetch_add(1, std::memory_order_relaxed);
  }
  for (const auto& f : findings) {
    log("ctsqs: integrity: " + f.kind + " " + f.file + " (digest " + f.digest + "): " + f.reason);
    metrics_.integrity_findings.fetch_add(1, std::memory_order_relaxed);
    st.batch.push_back(integrity::make_integrity_event(f, opts_.collector_id));
  }
  co_return error_code{};
}

}  // namespace ctsqs
