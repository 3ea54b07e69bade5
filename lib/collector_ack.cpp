// Collector: acknowledgements (batched deletes, visibility for retries and releases) and the
// visibility heartbeat of messages in flight.
#include "collector_impl.hpp"

namespace ctsqs {

asio::awaitable<void> Collector::Impl::finish(std::uint64_t seq, SqsMessage m, MessageOutcome outcome) {
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

void Collector::Impl::remove(std::uint64_t seq) {
  if (in_flight_.erase(seq)) msg_slots_.release();
  metrics_.messages_in_flight.store(in_flight_.size(), std::memory_order_relaxed);
  changed_.notify_all();
}

asio::awaitable<void> Collector::Impl::deleter() {
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

asio::awaitable<void> Collector::Impl::extender() {
  auto self = shared_from_this();
  const auto interval = std::chrono::duration_cast<steady::duration>(receive_.extension_interval());
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
        changes.push_back({f.receipt_handle, receive_.visibility_timeout});
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

asio::awaitable<void> Collector::Impl::release_all_in_flight() {
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

void Collector::Impl::log_release_failure(const result<std::vector<BatchEntryFailure>>& r, const Diagnostics& diag) {
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

}  // namespace ctsqs
