// Collector: receivers, per-message workers, visibility heartbeat, batched deletes, heartbeat
// events and shutdown, as coroutines on one executor.
#include "ctsqs/collector.hpp"

#include "ctsqs/adaptive_concurrency.hpp"
#include "ctsqs/integrity/drain_integrity.hpp"
#include "ctsqs/integrity/gunzip_sha256.hpp"
#include "ctsqs/s3/protocol.hpp"

#include "collector_async.hpp"
#include "collector_ledger.hpp"
#include "collector_sink_worker.hpp"
#include "detail/decode_pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace ctsqs {

namespace asio = boost::asio;
using detail::AsyncEvent;
using detail::LedgerHook;
using Prepared = detail::LedgerHook::Prepared;
using detail::AsyncSemaphore;
using detail::sleep_for;
using steady = std::chrono::steady_clock;

namespace {

std::string describe_object(const ObjectRef& o) {
  return "s3://" + o.bucket + "/" + o.key + (o.region.empty() ? "" : " (" + o.region + ")");
}

}  // namespace

struct Collector::Impl : std::enable_shared_from_this<Impl> {
  static constexpr std::size_t kDeleteBatch = 10;  // DeleteMessageBatch's maximum
  static constexpr std::size_t kMaxDeleters = 8;

  Impl(asio::any_io_executor ex, MessageQueue& q, ObjectStore& s, Sink& sink, PayloadDecoderFactory d,
       CollectorOptions o, Metrics& m, MessagePlanner p)
      : ex_(ex),
        queue_(q),
        store_(s),
        sink_(sink),
        decoders_(std::move(d)),
        opts_(std::move(o)),
        metrics_(m),
        planner_(std::move(p)),
        msg_slots_(ex, opts_.messages_in_flight),
        obj_slots_(ex, opts_.objects_in_flight),
        adaptive_(AdaptiveConcurrencyOptions{.initial = opts_.objects_in_flight,
                                             .min = 1,
                                             .max = std::max(opts_.objects_in_flight, opts_.max_objects_in_flight)}),
        changed_(ex) {
    if (!opts_.log) opts_.log = [](std::string_view line) { std::cerr << line << '\n'; };
    if (opts_.ledger) ledger_ = std::make_shared<LedgerHook>(ex_, *opts_.ledger, planner_, metrics_, opts_.log);
    // One thread: objects decode on the loop (no hand-over); more: on a pool of that many.
    if (detail::DecodePool::resolve(opts_.decode_threads) > 1)
      decode_pool_ = std::make_unique<detail::DecodePool>(opts_.decode_threads);
  }

  // ---- state (loop thread only) ----
  struct InFlight {
    std::string message_id;
    std::string receipt_handle;
    int receive_count = 0;
    steady::time_point last_extended;
    bool finishing = false;  // its outcome is known: the extender leaves its visibility alone
  };

  asio::any_io_executor ex_;
  MessageQueue& queue_;
  ObjectStore& store_;
  Sink& sink_;
  PayloadDecoderFactory decoders_;
  CollectorOptions opts_;
  Metrics& metrics_;
  MessagePlanner planner_;
  std::shared_ptr<detail::SinkWorker> sink_worker_;
  std::shared_ptr<LedgerHook> ledger_;  // with CollectorOptions::ledger
  // Decoding (inflate, parse, flatten, format, hash) of the objects in flight; null: on the loop.
  // A job touches only its object's FetchState (the decoder, its TagRouter: TagLimits has a
  // mutex; handlers are immutable), never the Impl's state, Metrics or the sink worker.
  std::unique_ptr<detail::DecodePool> decode_pool_;

  AsyncSemaphore msg_slots_;
  AsyncSemaphore obj_slots_;
  AdaptiveConcurrency adaptive_;
  AsyncEvent changed_;  // something finished: receivers/async_run re-check their conditions

  std::map<std::uint64_t, InFlight> in_flight_;
  std::uint64_t next_seq_ = 1;
  std::size_t workers_ = 0;       // message workers running
  std::size_t receivers_ = 0;     // receivers running
  std::vector<std::uint64_t> delete_queue_;
  std::size_t deleters_ = 0;  ///< DeleteMessageBatch calls in flight (each <= 10 messages)
  bool stopping_ = false;         // no more receives
  bool abandoned_ = false;        // grace expired: in-flight released, workers must not ack
  bool finished_ = false;         // async_run is done: background loops exit
  // The background loops (extender, heartbeat) and the timers they sleep on: async_run cancels
  // them and waits for the loops to end, so no frame of theirs outlives the run (their frames
  // hold the Impl, which refers to the caller's queue, store and sink).
  int background_ = 0;
  std::set<asio::steady_timer*> bg_timers_;
  asio::awaitable<void> bg_sleep(steady::duration d) {
    asio::steady_timer t(ex_, d);
    bg_timers_.insert(&t);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    bg_timers_.erase(&t);
  }
  void bg_done() {
    --background_;
    changed_.notify_all();
  }
  bool grace_expired_ = false;    // shutdown_grace passed since the stop
  bool settle_expired_ = false;   // time for open polls to answer after a release is over
  int consecutive_empty_ = 0;
  steady::time_point quiet_until_{};  // a message hidden for a retry becomes visible again by then
  std::set<std::string> released_ids_;  // released and not completed since
  std::uint64_t permanent_failures_ = 0;
  // One per receiver: a stop cancels the long poll in flight instead of waiting up to wait_time.
  std::vector<std::shared_ptr<asio::cancellation_signal>> receive_cancels_;
  error_code receive_error_;             // drain gave up receiving
  std::string receive_error_message_;
  steady::time_point pause_until_{};  // receives wait until then (environment failing)
  int pause_streak_ = 0;
  std::optional<steady::time_point> drain_wait_until_;  // the queue reported messages left: poll until then
  std::string drain_incomplete_;
  error_code sink_error_;                // the sink failed for good: the run stops
  std::string sink_error_message_;

  void log(const std::string& s) { opts_.log(s); }

  bool drain_done() const {
    return opts_.drain_empty_polls > 0 && consecutive_empty_ >= opts_.drain_empty_polls;
  }

  // ------------------------------------------------------------------ receivers
  asio::awaitable<void> receiver() {
    auto self = shared_from_this();
    const auto batch = static_cast<std::size_t>(opts_.max_messages_per_receive);
    int error_streak = 0;
    auto cancel = std::make_shared<asio::cancellation_signal>();
    receive_cancels_.push_back(cancel);
    while (!stopping_ && !drain_done() && !receive_error_) {
      // Room for at least one message (messages_in_flight bound), then as much of a batch as is
      // free right now; never hold slots while waiting for more (receivers would deadlock).
      if (steady::now() < pause_until_) {
        // The environment is failing: wait before taking more messages (the end of the run's
        // cancel_receives() cuts this short; a stop alone does not).
        asio::steady_timer pause(ex_, pause_until_);
        co_await pause.async_wait(asio::bind_cancellation_slot(cancel->slot(), asio::as_tuple(asio::use_awaitable)));
        // The timer's cancellation handler stays in the slot after the wait and points into
        // the timer: clear it before the timer goes, or the stop's emit touches freed memory
        // (found by the harness: SIGTERM during a pause, SIGSEGV at the end of the run).
        cancel->slot().clear();
        continue;
      }
      if (!co_await msg_slots_.acquire()) break;
      std::size_t slots = 1;
      while (slots < batch && msg_slots_.try_acquire()) ++slots;
      if (stopping_) {
        msg_slots_.release(slots);
        break;
      }
      Diagnostics diag;
      // Spawned with a cancellation slot so a stop can end the long poll (see run()). Messages
      // SQS had already handed out in an answer cut off this way stay hidden until their
      // visibility timeout ends (delayed, never lost or deleted).
      auto [thrown, r] = co_await asio::co_spawn(
          ex_, queue_.async_receive(static_cast<int>(slots), diag),
          asio::bind_cancellation_slot(cancel->slot(), asio::as_tuple(asio::use_awaitable)));
      cancel->slot().clear();
      if (stopping_ && (thrown || !r)) {
        // Cancelled by the stop (or failed during it): not a receive error.
        msg_slots_.release(slots);
        break;
      }
      if (thrown) {
        try {
          std::rethrow_exception(thrown);
        } catch (const std::exception& e) {
          diag.message = std::string("ReceiveMessage threw: ") + e.what();
        } catch (...) {
          diag.message = "ReceiveMessage threw";
        }
        r = make_error_code(client_errc::io_error);
      }
      if (!r) {
        msg_slots_.release(slots);
        metrics_.sqs_errors.fetch_add(1, std::memory_order_relaxed);
        ++error_streak;
        const std::string what = r.error().message() + (diag.empty() ? "" : " — " + to_string(diag));
        log("ctsqs: ReceiveMessage failed: " + what);
        // A drain is a one-shot: give up on errors that will not pass (access denied, unknown
        // queue, bad credentials) at once, and on others after a while. A `run` keeps trying.
        if (opts_.drain_empty_polls > 0 && (!is_retryable_failure(r.error()) || error_streak >= 8)) {
          if (!receive_error_) {
            receive_error_ = r.error();
            receive_error_message_ = "ReceiveMessage failed: " + what;
          }
          break;
        }
        // Back off (capped) so a broken queue or credentials are not hammered.
        // The stop's cancel_receives() cuts this wait too.
        asio::steady_timer backoff(ex_, std::chrono::milliseconds(std::min(30000, 500 << std::min(error_streak, 6))));
        co_await backoff.async_wait(asio::bind_cancellation_slot(cancel->slot(), asio::as_tuple(asio::use_awaitable)));
        cancel->slot().clear();  // as after the pause above
        continue;
      }
      error_streak = 0;
      metrics_.receives.fetch_add(1, std::memory_order_relaxed);
      auto& msgs = *r;
      msg_slots_.release(slots - std::min(slots, msgs.size()));
      if (msgs.empty()) {
        metrics_.empty_receives.fetch_add(1, std::memory_order_relaxed);
        // Messages we hid for a retry will come back: the queue is not drained before then.
        if (in_flight_.empty() && delete_queue_.empty() && deleters_ == 0 && steady::now() >= quiet_until_)
          ++consecutive_empty_;
        changed_.notify_all();
        continue;
      }
      consecutive_empty_ = 0;
      // New messages came (first receives, not the same ones coming back): a later stall of the
      // queue (a backfill's listing) gets its own bound.
      if (std::any_of(msgs.begin(), msgs.end(), [](const SqsMessage& m) { return m.receive_count <= 1; }))
        drain_wait_until_.reset();
      if (stopping_) {
        // Received after the stop: hand them straight back.
        std::vector<VisibilityChange> back;
        for (auto& m : msgs) back.push_back({m.receipt_handle, std::chrono::seconds(0)});
        Diagnostics d2;
        auto released = co_await queue_.async_change_visibility(std::move(back), d2);
        log_release_failure(released, d2);
        metrics_.messages_received.fetch_add(msgs.size(), std::memory_order_relaxed);
        metrics_.messages_released.fetch_add(msgs.size(), std::memory_order_relaxed);
        msg_slots_.release(msgs.size());
        break;
      }
      // With a ledger: plan the batch's messages and look their objects up in one call.
      std::vector<std::shared_ptr<Prepared>> prepared(msgs.size());
      if (ledger_) prepared = co_await ledger_->prepare(msgs);
      const auto now_sys = std::chrono::system_clock::now();
      for (std::size_t i = 0; i < msgs.size(); ++i) {
        auto& m = msgs[i];
        metrics_.messages_received.fetch_add(1, std::memory_order_relaxed);
        if (m.sent_time)
          metrics_.queue_lag_ms.store(
              std::chrono::duration_cast<std::chrono::milliseconds>(now_sys - *m.sent_time).count(),
              std::memory_order_relaxed);
        const auto seq = next_seq_++;
        in_flight_[seq] = InFlight{m.message_id, m.receipt_handle, m.receive_count, steady::now()};
        metrics_.messages_in_flight.store(in_flight_.size(), std::memory_order_relaxed);
        ++workers_;
        asio::co_spawn(ex_, worker(seq, std::move(m), std::move(prepared[i])), asio::detached);
      }
    }
    --receivers_;
    changed_.notify_all();
  }

  // ------------------------------------------------------------------ message worker
  // Whatever happens inside, a worker ends: an exception is the outcome "failed, released"
  // (logged with the message id), and its slot and heartbeat entry are given up.
  asio::awaitable<void> worker(std::uint64_t seq, SqsMessage m, std::shared_ptr<Prepared> pre) {
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

  // Everything a message announced, into the sink, then a flush barrier.
  asio::awaitable<MessageOutcome> process(SqsMessage m, std::shared_ptr<Prepared> pre) {
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
        std::string why;
        auto b = co_await sink_worker_->barrier(since, &why);
        if (!b) {
          log("ctsqs: message " + m.message_id + ": sink flush failed (" + (why.empty() ? b.error().message() : why) +
              "); the message will come back");
          co_return MessageOutcome::retryable_failure;
        }
        if (ledger_) co_await ledger_->record(std::move(delivered), m.message_id);
        co_return permanent ? MessageOutcome::permanent_failure : MessageOutcome::delivered;
      }
    }
    std::string why;
    auto b = co_await sink_worker_->barrier(since, &why);
    if (!b) {
      log("ctsqs: message " + m.message_id + ": sink flush failed (" + (why.empty() ? b.error().message() : why) +
          "); the message will come back");
      co_return MessageOutcome::retryable_failure;
    }
    co_return MessageOutcome::delivered;
  }

  // An object failed for a reason outside the message (credentials, signature, access, network,
  // 5xx): receiving more messages now would only fail them too. Receivers wait until
  // pause_until_, the backoff doubling per failure that comes after a pause ended.
  void pause_receives(const error_code& ec, const std::string& what) {
    const auto now = steady::now();
    if (now < pause_until_) return;  // failures of work begun before the pause: same outage
    ++pause_streak_;
    // A drain is a one-shot: it gives up after 8 pauses in a row without an object read, as on
    // receive errors; the messages stay in the queue.
    if (opts_.drain_empty_polls > 0 && pause_streak_ >= 8 && !receive_error_) {
      receive_error_ = ec;
      receive_error_message_ = "objects could not be read 8 times in a row for reasons that are not the messages' own; the last: " + what;
      log("ctsqs: drain: giving up: " + receive_error_message_);
      return;
    }
    const auto d = retry_backoff(pause_streak_, opts_.retry_backoff_min, opts_.retry_backoff_max);
    pause_until_ = now + d;
    log("ctsqs: pausing receives for " + std::to_string(d.count()) + " s after a failure that is not the message's (" +
        ec.message() + ")");
  }

  // State of one object fetch, shared with the chunk handler. While a decode job of the object
  // runs on the pool, only that job touches decoder, batch, diag, hash and content_sha; the loop
  // waits for it (one job per object at a time).
  struct FetchState {
    std::unique_ptr<PayloadDecoder> decoder;
    std::vector<Event> batch;
    Diagnostics diag;
    std::uint64_t events = 0;
    // The digest's own bytes (kept and hashed), or for a log file when the decoder cannot hand
    // over its inflated bytes (a handler of one's own): a second gunzip of the object.
    std::unique_ptr<integrity::GunzipSha256> hash;
    bool hash_failed = false;
    bool digest = false;
    // The SHA-256 of the uncompressed content, from the decoder's own inflate output (log files
    // with ctsqs.integrity; every object with a ledger).
    std::unique_ptr<integrity::Sha256Stream> content_sha;
    std::string sha256;  // its hex once the object decoded whole, else ""
    HttpResponse head;
  };

  // Runs `job` on the decode pool (the loop goes on with I/O), or right here without one.
  template <class F>
  asio::awaitable<void> decode(F& job) {
    if (decode_pool_)
      co_await decode_pool_->run(job);
    else
      job();
  }

  asio::awaitable<result<void>> on_chunk(std::shared_ptr<FetchState> st, std::span<const std::byte> chunk) {
    metrics_.bytes_fetched.fetch_add(chunk.size(), std::memory_order_relaxed);
    result<void> r;
    // The chunk's bytes stay valid until this handler returns (the store reads no further).
    auto job = [&st, chunk, &r] {
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
      const auto n = st->batch.size();
      st->events += n;
      co_await sink_worker_->push(std::move(st->batch));
      st->batch = {};
      st->batch.reserve(n);  // the next chunk yields about as many: no regrowth from empty
    }
    co_return result<void>{};
  }

  /// Feeds an object's latency to the adaptive limit and applies the limit it gives.
  void adapt_objects_in_flight(AdaptiveConcurrency::clock::time_point started, const error_code& ec) {
    if (!opts_.adaptive_objects_in_flight) return;
    const auto now = AdaptiveConcurrency::clock::now();
    // Permanent failures (a corrupt object) and cancellation say nothing about load.
    const bool retryable = ec && ec != make_error_code(client_errc::cancelled) && is_retryable_failure(ec);
    if (ec && !retryable) return;
    adaptive_.completed(now - started, retryable, now);
    obj_slots_.set_capacity(adaptive_.limit());
    metrics_.objects_in_flight_limit.store(adaptive_.limit(), std::memory_order_relaxed);
  }

  // `sha256_out`: the SHA-256 of the uncompressed content when it was taken (with a ledger, or
  // a log file under ctsqs.integrity), else "".
  asio::awaitable<error_code> fetch_object(ObjectRef obj, Diagnostics& diag, std::uint64_t* events_out = nullptr,
                                           std::string* sha256_out = nullptr) {
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
      co_await sink_worker_->push(std::move(st->batch));
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

  /// ctsqs.integrity after an object was read: a log file's hash is remembered; a digest is
  /// verified and its findings become log lines, metrics and events in the object's batch (so
  /// the message is deleted only once they are delivered). Keys that cannot be loaded fail the
  /// object retryably.
  asio::awaitable<error_code> check_integrity(ObjectRef obj, FetchState& st, Diagnostics& diag) {
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

  // ------------------------------------------------------------------ finishing a message
  asio::awaitable<void> finish(std::uint64_t seq, SqsMessage m, MessageOutcome outcome) {
    if (abandoned_) co_return;  // already released at the end of the grace period
    queue_.note_outcome(m.receipt_handle, outcome);
    // From here on its visibility is the outcome's (a backoff, or gone): no more extensions
    // that could land after the backoff and hide it for a whole visibility timeout.
    if (auto it = in_flight_.find(seq); it != in_flight_.end()) it->second.finishing = true;
    if (outcome == MessageOutcome::permanent_failure) {
      ++permanent_failures_;
      metrics_.messages_failed.fetch_add(1, std::memory_order_relaxed);
    }
    if (outcome == MessageOutcome::ignored) metrics_.messages_ignored.fetch_add(1, std::memory_order_relaxed);
    const auto d = decide_disposition(outcome, m.receive_count, opts_);
    if (d.action == MessageDisposition::Action::delete_message) {
      released_ids_.erase(m.message_id);
      delete_queue_.push_back(seq);
      // One call carries up to 10; with SQS tens of milliseconds away, one call at a time caps
      // deletes (and so the messages in flight) at a few hundred per second: a full batch
      // waiting starts another call, up to kMaxDeleters at once.
      if (deleters_ == 0 || (delete_queue_.size() >= kDeleteBatch && deleters_ < kMaxDeleters)) {
        ++deleters_;
        asio::co_spawn(ex_, deleter(), asio::detached);
      }
      co_return;  // the deleter releases the slot
    }
    // After the sink gave up the run is ending: what it did not deliver is released at once.
    const auto visibility = sink_error_ ? std::chrono::seconds(0) : d.visibility;
    quiet_until_ = std::max(quiet_until_, steady::now() + visibility + std::chrono::milliseconds(500));
    Diagnostics diag;
    std::vector<VisibilityChange> change;
    change.push_back({m.receipt_handle, visibility});
    auto r = co_await queue_.async_change_visibility(std::move(change), diag);
    if (!r || !r->empty()) {
      metrics_.sqs_errors.fetch_add(1, std::memory_order_relaxed);
      log("ctsqs: message " + m.message_id + ": could not set its visibility (" +
          (r ? r->front().code + (r->front().message.empty() ? "" : ": " + r->front().message) : r.error().message()) +
          "); it comes back when its visibility timeout ends");
    }
    if (outcome != MessageOutcome::permanent_failure) {
      released_ids_.insert(m.message_id);
      metrics_.messages_released.fetch_add(1, std::memory_order_relaxed);
    }
    remove(seq);
  }

  void remove(std::uint64_t seq) {
    if (in_flight_.erase(seq)) msg_slots_.release();
    metrics_.messages_in_flight.store(in_flight_.size(), std::memory_order_relaxed);
    changed_.notify_all();
  }

  asio::awaitable<void> deleter() {
    auto self = shared_from_this();
    while (!delete_queue_.empty()) {
      const auto n = std::min(delete_queue_.size(), kDeleteBatch);
      std::vector<std::uint64_t> seqs(delete_queue_.begin(), delete_queue_.begin() + static_cast<std::ptrdiff_t>(n));
      delete_queue_.erase(delete_queue_.begin(), delete_queue_.begin() + static_cast<std::ptrdiff_t>(n));
      std::vector<std::string> handles;
      std::map<std::string, std::uint64_t> by_handle;
      for (auto s : seqs) {
        auto it = in_flight_.find(s);
        if (it == in_flight_.end()) continue;
        handles.push_back(it->second.receipt_handle);
        by_handle[it->second.receipt_handle] = s;
      }
      Diagnostics diag;
      // A throwing queue must not leave `deleting_` set (the run would wait for it forever).
      result<std::vector<BatchEntryFailure>> r = make_error_code(client_errc::io_error);
      try {
        r = co_await queue_.async_delete(handles, diag);
      } catch (const std::exception& e) {
        diag.message = std::string("it threw: ") + e.what();
      } catch (...) {
        diag.message = "it threw";
      }
      std::size_t failed = 0;
      // A message whose delete failed comes back: the run did not finish it (a drain says so).
      auto comes_back = [&](const std::string& handle) {
        if (auto h = by_handle.find(handle); h != by_handle.end())
          if (auto it = in_flight_.find(h->second); it != in_flight_.end()) released_ids_.insert(it->second.message_id);
      };
      if (!r) {
        failed = handles.size();
        metrics_.sqs_errors.fetch_add(1, std::memory_order_relaxed);
        log("ctsqs: DeleteMessageBatch failed (" + r.error().message() + (diag.empty() ? "" : ": " + to_string(diag)) +
            "); " + std::to_string(handles.size()) + " delivered message(s) will come back (duplicates)");
        for (const auto& h : handles) comes_back(h);
      } else {
        failed = r->size();
        for (auto& f : *r) {
          log("ctsqs: could not delete a delivered message (" + f.code + ": " + f.message +
              "); it will come back (duplicate)");
          comes_back(f.receipt_handle);
        }
      }
      metrics_.messages_deleted.fetch_add(handles.size() - failed, std::memory_order_relaxed);
      for (auto s : seqs) remove(s);
    }
    --deleters_;
    changed_.notify_all();
  }

  // ------------------------------------------------------------------ visibility heartbeat
  asio::awaitable<void> extender() {
    auto self = shared_from_this();
    const auto interval = std::chrono::duration_cast<steady::duration>(opts_.visibility_extension_interval);
    const auto tick = std::min<steady::duration>(interval / 4, std::chrono::seconds(1));
    while (!finished_) {
      co_await bg_sleep(tick);
      if (finished_ || abandoned_) break;
      const auto now = steady::now();
      std::vector<VisibilityChange> changes;
      std::string ids;
      for (auto& [seq, f] : in_flight_) {
        if (!f.finishing && now - f.last_extended >= interval) {
          f.last_extended = now;
          changes.push_back({f.receipt_handle, opts_.visibility_timeout});
          ids += (ids.empty() ? "" : ", ") + f.message_id;
        }
      }
      if (changes.empty()) continue;
      const auto n = changes.size();
      Diagnostics diag;
      auto r = co_await queue_.async_change_visibility(std::move(changes), diag);
      if (!r) {
        metrics_.sqs_errors.fetch_add(1, std::memory_order_relaxed);
        log("ctsqs: extending the visibility of message(s) " + ids + " failed: " + r.error().message() +
            (diag.empty() ? "" : " — " + to_string(diag)) + "; they may come back before they are done (duplicates)");
        continue;
      }
      // Entries of messages deleted in the meantime fail with ReceiptHandleIsInvalid: harmless.
      // The others are messages still worked on, which may now come back to another consumer.
      std::string failed_ids, cause;
      for (const auto& f : *r) {
        for (const auto& [seq, m] : in_flight_) {
          if (m.receipt_handle != f.receipt_handle || m.finishing) continue;
          failed_ids += (failed_ids.empty() ? "" : ", ") + m.message_id;
          if (cause.empty()) cause = f.code + (f.message.empty() ? "" : ": " + f.message);
        }
      }
      if (!failed_ids.empty()) {
        metrics_.sqs_errors.fetch_add(1, std::memory_order_relaxed);
        log("ctsqs: extending the visibility of message(s) " + failed_ids + " failed (" + cause +
            "); they may come back before they are done (duplicates)");
      }
      metrics_.visibility_extensions.fetch_add(n - r->size(), std::memory_order_relaxed);
    }
  }

  // ------------------------------------------------------------------ heartbeat events
  asio::awaitable<void> heartbeat() {
    auto self = shared_from_this();
    const auto interval = std::chrono::duration_cast<steady::duration>(opts_.heartbeat.interval);
    auto next = steady::now() + interval;
    while (!finished_) {
      co_await bg_sleep(std::min<steady::duration>(next - steady::now(), std::chrono::milliseconds(500)));
      if (finished_ || stopping_) break;
      if (steady::now() < next) continue;
      next += interval;
      std::vector<Event> ev;
      ev.push_back(make_heartbeat_event(opts_.heartbeat, opts_.collector_id, "running", metrics_.snapshot(),
                                        std::chrono::system_clock::now()));
      const auto since = sink_worker_->mark();
      co_await sink_worker_->push(std::move(ev), false);
      co_await sink_worker_->barrier(since);
    }
  }

  // ------------------------------------------------------------------ end of a drain
  // The polls came back empty; SQS must agree before the drain says "drained". Messages handed
  // out in an answer that never arrived (a lost connection, a batch rejected for one bad MD5) are
  // in flight and come back when their visibility timeout ends: poll on until then. true: over.
  asio::awaitable<bool> drain_confirmed() {
    Diagnostics diag;
    auto c = co_await queue_.async_queue_counts(diag);
    if (!c) {
      drain_incomplete_ = "could not read the queue's message counts (" + c.error().message() +
                          (diag.empty() ? "" : " — " + to_string(diag)) + ")";
      log("ctsqs: drain: " + drain_incomplete_);
      co_return true;
    }
    if (c->empty()) co_return true;
    const std::string left = std::to_string(c->visible) + " visible, " + std::to_string(c->in_flight) +
                             " in flight, " + std::to_string(c->delayed) + " delayed";
    const auto now = steady::now();
    if (!drain_wait_until_) {
      const auto bound = std::max(opts_.visibility_timeout, c->visibility_timeout.value_or(std::chrono::seconds(0))) +
                         std::chrono::seconds(5);
      drain_wait_until_ = now + bound;
      log("ctsqs: drain: the polls came back empty but the queue reports " + left + "; polling on for up to " +
          std::to_string(bound.count()) + " s");
    }
    if (now >= *drain_wait_until_) {
      drain_incomplete_ = "the queue still reports " + left + " message(s)";
      log("ctsqs: drain: giving up: " + drain_incomplete_);
      co_return true;
    }
    co_await sleep_for(std::chrono::seconds(1));
    co_return false;
  }

  void start_receivers() {
    for (std::size_t i = 0; i < opts_.receives_in_flight; ++i) {
      ++receivers_;
      asio::co_spawn(ex_, receiver(), asio::detached);
    }
  }

  // ------------------------------------------------------------------ a sink that keeps failing
  void on_sink_failure(const detail::SinkWorker::Failure& f) {
    if (sink_error_ || finished_) return;
    const bool closed = f.ec == client_errc::sink_closed;
    const auto& p = opts_.on_sink_failure;
    const auto failing_for = steady::now() - f.first;
    if (!closed && (p.give_up_after_flushes == 0 || f.streak < static_cast<std::uint64_t>(p.give_up_after_flushes) ||
                    failing_for < p.give_up_after))
      return;
    sink_error_ = f.ec;
    sink_error_message_ = f.detail.empty() ? f.ec.message() : f.detail;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(failing_for).count();
    log("ctsqs: the output " + std::string(closed ? "was closed by its reader" : "keeps failing") + " (" +
        sink_error_message_ +
        (closed ? ""
                : "; " + std::to_string(f.streak) + " flushes in a row over " + std::to_string(secs) + " s" +
                      (f.tag.empty() ? "" : ", events tagged " + f.tag)) +
        "): giving up; messages in flight are released (visibility 0), none of them is deleted");
    on_stop();
  }

  // ------------------------------------------------------------------ stop
  void on_stop() {
    if (stopping_) return;
    stopping_ = true;
    log("ctsqs: stopping: no more receives; finishing " + std::to_string(in_flight_.size()) +
        " message(s) in flight (grace " + std::to_string(opts_.shutdown_grace.count()) + " s)");
    msg_slots_.close();
    // Open long polls are not cut off here: SQS would still hand messages to a poll whose
    // connection is gone and hide them for the visibility timeout. A poll that answers during
    // the stop gets its messages handed straight back (visibility 0); run() ends the polls still
    // open once the work in flight is done or released.
    changed_.notify_all();
    asio::co_spawn(ex_, grace_watch(), asio::detached);
  }

  void cancel_receives() {
    for (auto& c : receive_cancels_) c->emit(asio::cancellation_type::terminal);
  }

  // On bg_sleep: the run's end cancels them, so no timer of the collector keeps the caller's
  // io_context busy after async_run completed (a grace period kept it 30 s).
  asio::awaitable<void> settle_watch(steady::duration d) {
    auto self = shared_from_this();
    co_await bg_sleep(d);  // cancelled at the end of the run: no timer outlives it
    if (finished_) co_return;
    settle_expired_ = true;
    changed_.notify_all();
  }

  asio::awaitable<void> grace_watch() {
    auto self = shared_from_this();
    co_await bg_sleep(opts_.shutdown_grace);  // cancelled at the end of the run: no timer outlives it
    if (finished_) co_return;
    grace_expired_ = true;
    changed_.notify_all();
  }

  asio::awaitable<void> release_all_in_flight() {
    abandoned_ = true;
    std::vector<VisibilityChange> back;
    for (auto& [seq, f] : in_flight_) {
      back.push_back({f.receipt_handle, std::chrono::seconds(0)});
      released_ids_.insert(f.message_id);
    }
    if (back.empty()) co_return;
    log("ctsqs: grace period over: releasing " + std::to_string(back.size()) + " message(s) (visibility 0)");
    metrics_.messages_released.fetch_add(back.size(), std::memory_order_relaxed);
    Diagnostics diag;
    auto r = co_await queue_.async_change_visibility(std::move(back), diag);
    log_release_failure(r, diag);
  }

  // A release that fails loses nothing: the messages come back when their visibility timeout
  // ends instead of at once. Say so, naming the cause.
  void log_release_failure(const result<std::vector<BatchEntryFailure>>& r, const Diagnostics& diag) {
    if (!r) {
      metrics_.sqs_errors.fetch_add(1, std::memory_order_relaxed);
      log("ctsqs: releasing messages failed (" + r.error().message() + (diag.empty() ? "" : " — " + to_string(diag)) +
          "); they come back when their visibility timeout ends");
      return;
    }
    for (const auto& f : *r)
      log("ctsqs: releasing a message failed (" + f.code + ": " + f.message +
          "); it comes back when its visibility timeout ends");
  }

  asio::awaitable<CollectorResult> run() {
    auto self = shared_from_this();
    sink_worker_ = std::make_shared<detail::SinkWorker>(ex_, sink_, metrics_, opts_.sink_queue_events);
    sink_worker_->on_failure([weak = weak_from_this()](const detail::SinkWorker::Failure& f) {
      if (auto impl = weak.lock()) impl->on_sink_failure(f);
    });
    sink_worker_->start();
    ++background_;
    asio::co_spawn(ex_, extender(), [self](std::exception_ptr) { self->bg_done(); });
    if (opts_.heartbeat.enabled) {
      ++background_;
      asio::co_spawn(ex_, heartbeat(), [self](std::exception_ptr) { self->bg_done(); });
    }
    start_receivers();
    // Wait for the work in flight to end and, unless stopping, for the receivers (drained or a
    // receive error). A stop waits for the work up to the grace period.
    bool grace_over = false;
    bool drain_ended = false;  // the drain's end was decided (empty, or not drained and said why)
    for (;;) {
      const bool work = workers_ > 0 || deleters_ > 0 || !delete_queue_.empty();
      if (!work && (receivers_ == 0 || stopping_)) {
        if (stopping_ || receive_error_ || !drain_done()) break;
        // No co_await inside || or ?: — g++ 12 evaluates it even when the left side decides.
        const bool confirmed = co_await drain_confirmed();
        drain_ended = confirmed;
        if (confirmed || stopping_) break;
        consecutive_empty_ = 0;
        start_receivers();
        continue;
      }
      if (work && stopping_ && grace_expired_) {
        grace_over = true;
        break;
      }
      co_await changed_.wait();
    }
    // A drain stopped before SQS confirmed its queue empty has not drained it: exit 0 would say so.
    if (opts_.drain_empty_polls > 0 && stopping_ && !drain_ended && drain_incomplete_.empty() && !receive_error_ &&
        !sink_error_) {
      drain_incomplete_ = "stopped before the queue was confirmed empty";
      log("ctsqs: drain: " + drain_incomplete_);
    }
    if (grace_over) co_await release_all_in_flight();
    // A poll still open at SQS takes the messages just released (at the end of the grace period,
    // or at visibility 0 after the sink gave up): give it a moment to answer (its messages are
    // handed straight back) before cutting it off, so they are not hidden for a visibility
    // timeout by a poll nobody reads.
    if ((grace_over || sink_error_) && receivers_ > 0) {
      asio::co_spawn(ex_, settle_watch(opts_.release_settle), asio::detached);
      while (receivers_ > 0 && !settle_expired_) co_await changed_.wait();
    }
    // Polls still open now are cut off. With nothing released there is nothing for them to hide
    // but a message arriving this instant, which then comes back after its visibility timeout.
    cancel_receives();
    while (receivers_ > 0) co_await changed_.wait();
    finished_ = true;
    // End the background loops now (a heartbeat waiting on the sink gets 2 s).
    for (auto* t : bg_timers_) t->cancel();
    for (int i = 0; background_ > 0 && i < 200; ++i) co_await sleep_for(std::chrono::milliseconds(10));
    sink_worker_->stop();
    if (!grace_over) sink_worker_->join();  // a stuck sink is left behind when the grace expired
    CollectorResult res;
    res.permanent_failures = permanent_failures_;
    res.unfinished = released_ids_.size();
    res.abandoned = grace_over;
    res.receive_error = receive_error_;
    res.receive_error_message = receive_error_message_;
    res.drain_incomplete = drain_incomplete_;
    res.sink_error = sink_error_;
    res.sink_error_message = sink_error_message_;
    co_return res;
  }
};

Collector::Collector(asio::any_io_executor executor, MessageQueue& queue, ObjectStore& store, Sink& sink,
                     PayloadDecoderFactory decoders, CollectorOptions options, Metrics& metrics,
                     MessagePlanner planner)
    : impl_(std::make_shared<Impl>(executor, queue, store, sink, std::move(decoders), std::move(options), metrics,
                                   std::move(planner))) {}

Collector::~Collector() = default;

asio::awaitable<CollectorResult> Collector::async_run() { return impl_->run(); }

void Collector::request_stop() {
  asio::post(impl_->ex_, [impl = impl_] { impl->on_stop(); });
}

}  // namespace ctsqs
