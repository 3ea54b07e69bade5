// Collector: the receivers (ReceiveMessage long polls under the messages-in-flight bound) and
// the pause after failures of the environment.
#include "collector_impl.hpp"

namespace ctsqs {

asio::awaitable<void> Collector::Impl::receiver() {
  auto self = shared_from_this();
  const auto batch = static_cast<std::size_t>(receive_.max_messages);
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

void Collector::Impl::pause_receives(const error_code& ec, const std::string& what) {
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

void Collector::Impl::start_receivers() {
  for (std::size_t i = 0; i < opts_.concurrency.receives_in_flight; ++i) {
    ++receivers_;
    asio::co_spawn(ex_, receiver(), asio::detached);
  }
}

}  // namespace ctsqs
