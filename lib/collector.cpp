// Collector: the run (start, the drain's end, stop and grace period, heartbeat events, a sink
// that keeps failing) and the public interface; the other jobs are in collector_*.cpp.
#include "collector_impl.hpp"

namespace ctsqs {

asio::awaitable<void> Collector::Impl::heartbeat() {
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

asio::awaitable<bool> Collector::Impl::drain_confirmed() {
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
    const auto bound = std::max(receive_.visibility_timeout, c->visibility_timeout.value_or(std::chrono::seconds(0))) +
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

void Collector::Impl::on_sink_failure(const detail::SinkWorker::Failure& f) {
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

void Collector::Impl::on_stop() {
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

asio::awaitable<void> Collector::Impl::settle_watch(steady::duration d) {
  auto self = shared_from_this();
  co_await bg_sleep(d);  // cancelled at the end of the run: no timer outlives it
  if (finished_) co_return;
  settle_expired_ = true;
  changed_.notify_all();
}

asio::awaitable<void> Collector::Impl::grace_watch() {
  auto self = shared_from_this();
  co_await bg_sleep(opts_.shutdown_grace);  // cancelled at the end of the run: no timer outlives it
  if (finished_) co_return;
  grace_expired_ = true;
  changed_.notify_all();
}

asio::awaitable<CollectorResult> Collector::Impl::run() {
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
  // (Each loop's end notifies changed_: no polling, which cost every run up to 10 ms here.)
  const auto bg_deadline = steady::now() + std::chrono::seconds(2);
  while (background_ > 0 && steady::now() < bg_deadline) co_await changed_.wait_until(bg_deadline);
  sink_worker_->stop();
  if (!grace_over) {
    sink_worker_->join();  // a stuck sink is left behind when the grace expired
    sink_worker_->clear_spent();  // written events no decode job will take back now
  }
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

Collector::Collector(asio::any_io_executor executor, MessageQueue& queue, ObjectStore& store, Sink& sink,
                     PayloadDecoderFactory decoders, CollectorOptions options, Metrics& metrics,
                     MessagePlanner planner)
    : impl_(std::make_shared<Impl>(executor, queue, store, sink, std::move(decoders), std::move(options), metrics,
                                   std::move(planner))) {}

result<std::unique_ptr<Collector>> Collector::create(asio::any_io_executor executor, MessageQueue& queue,
                                                     ObjectStore& store, Sink& sink, PayloadDecoderFactory decoders,
                                                     CollectorOptions options, Metrics& metrics, Diagnostics& diag,
                                                     MessagePlanner planner) {
  if (auto v = validate(options, diag); !v) return v.error();
  if (!decoders) {
    diag.message = "decoders: the decoder factory is empty";
    return make_error_code(client_errc::invalid_argument);
  }
  if (!planner) {
    diag.message = "planner: the message planner is empty";
    return make_error_code(client_errc::invalid_argument);
  }
  return std::make_unique<Collector>(executor, queue, store, sink, std::move(decoders), std::move(options), metrics,
                                     std::move(planner));
}

Collector::~Collector() = default;

asio::awaitable<CollectorResult> Collector::async_run() { return impl_->run(); }

asio::any_io_executor Collector::get_executor() const { return impl_->ex_; }

void Collector::request_stop() {
  asio::post(impl_->ex_, [impl = impl_] { impl->on_stop(); });
}

}  // namespace ctsqs

