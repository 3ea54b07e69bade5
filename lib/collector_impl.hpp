// The collector's state and the declarations of its jobs, shared by the files that implement
// them: collector_receive.cpp (receivers), collector_objects.cpp (message workers, fetch and
// decode), collector_ack.cpp (acknowledgements: deletes, visibility) and collector.cpp (the run).
#pragma once

#include "ctsqs/collector/collector.hpp"

#include "detail/adaptive_concurrency.hpp"
#include "ctsqs/integrity/drain_integrity.hpp"
#include "ctsqs/integrity/gunzip_sha256.hpp"
#include "ctsqs/aws/s3/protocol.hpp"

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

inline std::string describe_object(const ObjectRef& o) {
  return "s3://" + o.bucket + "/" + o.key + (o.region.empty() ? "" : " (" + o.region + ")");
}

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
        receive_(opts_.receive ? *opts_.receive : q.receive_options().value_or(SqsReceiveOptions{})),
        msg_slots_(ex, opts_.concurrency.messages_in_flight),
        obj_slots_(ex, opts_.concurrency.objects_in_flight),
        adaptive_(AdaptiveConcurrencyOptions{.initial = opts_.concurrency.objects_in_flight,
                                             .min = 1,
                                             .max = std::max(opts_.concurrency.objects_in_flight, opts_.concurrency.max_objects_in_flight)}),
        changed_(ex) {
    if (!opts_.log) opts_.log = [](std::string_view line) { std::cerr << line << '\n'; };
    if (opts_.ledger) ledger_ = std::make_shared<LedgerHook>(ex_, *opts_.ledger, planner_, metrics_, opts_.log);
    // One thread: objects decode on the loop (no hand-over); more: on a pool of that many.
    if (detail::DecodePool::resolve(opts_.concurrency.decode_threads) > 1)
      decode_pool_ = std::make_unique<detail::DecodePool>(opts_.concurrency.decode_threads);
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
  SqsReceiveOptions receive_;           // CollectorOptions::receive, else the queue's
  // Decoding (inflate, parse, flatten, format, hash) of the objects in flight; null: on the loop.
  // A job touches only its object's FetchState (the decoder, its TagRouter: TagLimits has a
  // mutex; handlers are immutable; the SinkWorker it was given, for take_spent, which locks),
  // never the Impl's state or Metrics.
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
  asio::awaitable<void> receiver();

  // ------------------------------------------------------------------ message worker
  // Whatever happens inside, a worker ends: an exception is the outcome "failed, released"
  // (logged with the message id), and its slot and heartbeat entry are given up.
  asio::awaitable<void> worker(std::uint64_t seq, SqsMessage m, std::shared_ptr<Prepared> pre);

  // Everything a message announced, into the sink, then a flush barrier.
  asio::awaitable<MessageOutcome> process(SqsMessage m, std::shared_ptr<Prepared> pre);

  // The flush barrier of what the message pushed since `since`; false (logged, naming the
  // message: it will come back) when the flush failed.
  asio::awaitable<bool> flushed(std::uint64_t since, const std::string& message_id);

  // An object failed for a reason outside the message (credentials, signature, access, network,
  // 5xx): receiving more messages now would only fail them too. Receivers wait until
  // pause_until_, the backoff doubling per failure that comes after a pause ended.
  void pause_receives(const error_code& ec, const std::string& what);

  // State of one object fetch, shared with the chunk handler. While a decode job of the object
  // runs on the pool, only that job touches decoder, batch, diag, hash and content_sha; the loop
  // waits for it (one job per object at a time).
  struct FetchState {
    std::unique_ptr<PayloadDecoder> decoder;
    std::vector<Event> batch;
    std::size_t batch_hint = 0;  // the last batch's size: the next is reserved as large, on the job's thread
    unsigned owner = detail::SinkWorker::no_owner;  // the thread that filled batch (SinkWorker::push)
    // The run's sink worker, copied on the loop: a job takes its thread's written events from it
    // (reclaim_spent) without reading Impl::sink_worker_, which a later run replaces.
    std::shared_ptr<detail::SinkWorker> sink;
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

  // On the thread of a decode job: frees the events the sink wrote that this thread allocated
  // (SinkWorker::take_spent), reserves the object's next batch here, and returns the thread's
  // number, the owner of what it decodes now.
  static unsigned reclaim_spent(FetchState& st) {
    const unsigned me = detail::DecodePool::current_worker();
    st.sink->take_spent(me);  // destroyed here
    if (st.batch.capacity() == 0 && st.batch_hint > 0) st.batch.reserve(st.batch_hint);
    return me;
  }

  // Runs `job` on the decode pool (the loop goes on with I/O), or right here without one.
  template <class F>
  asio::awaitable<void> decode(F& job) {
    if (decode_pool_)
      co_await decode_pool_->run(job);
    else
      job();
  }

  asio::awaitable<result<void>> on_chunk(std::shared_ptr<FetchState> st, std::span<const std::byte> chunk);

  /// Feeds an object's latency to the adaptive limit and applies the limit it gives.
  void adapt_objects_in_flight(AdaptiveConcurrency::clock::time_point started, const error_code& ec);

  // `sha256_out`: the SHA-256 of the uncompressed content when it was taken (with a ledger, or
  // a log file under ctsqs.integrity), else "".
  asio::awaitable<error_code> fetch_object(ObjectRef obj, Diagnostics& diag, std::uint64_t* events_out = nullptr,
                                           std::string* sha256_out = nullptr);

  /// ctsqs.integrity after an object was read: a log file's hash is remembered; a digest is
  /// verified and its findings become log lines, metrics and events in the object's batch (so
  /// the message is deleted only once they are delivered). Keys that cannot be loaded fail the
  /// object retryably.
  asio::awaitable<error_code> check_integrity(ObjectRef obj, FetchState& st, Diagnostics& diag);

  // ------------------------------------------------------------------ finishing a message
  asio::awaitable<void> finish(std::uint64_t seq, SqsMessage m, MessageOutcome outcome);

  void remove(std::uint64_t seq);

  asio::awaitable<void> deleter();

  // ------------------------------------------------------------------ visibility heartbeat
  asio::awaitable<void> extender();

  // ------------------------------------------------------------------ heartbeat events
  asio::awaitable<void> heartbeat();

  // ------------------------------------------------------------------ end of a drain
  // The polls came back empty; SQS must agree before the drain says "drained". Messages handed
  // out in an answer that never arrived (a lost connection, a batch rejected for one bad MD5) are
  // in flight and come back when their visibility timeout ends: poll on until then. true: over.
  asio::awaitable<bool> drain_confirmed();

  void start_receivers();

  // ------------------------------------------------------------------ a sink that keeps failing
  void on_sink_failure(const detail::SinkWorker::Failure& f);

  // ------------------------------------------------------------------ stop
  void on_stop();

  void cancel_receives() {
    for (auto& c : receive_cancels_) c->emit(asio::cancellation_type::terminal);
  }

  // On bg_sleep: the run's end cancels them, so no timer of the collector keeps the caller's
  // io_context busy after async_run completed (a grace period kept it 30 s).
  asio::awaitable<void> settle_watch(steady::duration d);

  asio::awaitable<void> grace_watch();

  asio::awaitable<void> release_all_in_flight();

  // A release that fails loses nothing: the messages come back when their visibility timeout
  // ends instead of at once. Say so, naming the cause.
  void log_release_failure(const result<std::vector<BatchEntryFailure>>& r, const Diagnostics& diag);

  asio::awaitable<CollectorResult> run();
};

}  // namespace ctsqs
