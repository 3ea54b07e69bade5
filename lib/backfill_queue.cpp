// BackfillQueue: listed objects as a MessageQueue for a Collector. An object is recorded done
// only on a delete of a receipt the collector reported delivered; only its own failures count
// towards max_receives; abandon() cancels every timer so none outlives the run.
#include "collector_async.hpp"
#include "ctsqs/backfill/backfill.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <charconv>
#include <deque>

namespace ctsqs {

namespace asio = boost::asio;
using namespace std::chrono;

struct BackfillQueue::Impl : std::enable_shared_from_this<BackfillQueue::Impl> {
  struct Entry {
    ListedLog log;
    int receives = 0;
    int failures = 0;           // receives that failed for a reason of the object's own
    std::uint64_t receipt = 0;  // current receipt number; 0 = not in flight
    std::optional<MessageOutcome> outcome;  // of the current receipt, as the collector told it
  };
  asio::any_io_executor ex;
  Options options;
  BackfillState* state;
  std::map<std::uint64_t, Entry> entries;  // id -> entry
  std::deque<std::uint64_t> visible;
  std::map<std::uint64_t, std::uint64_t> in_flight;  // receipt -> id
  std::size_t hidden = 0;                            // waiting out a visibility change
  std::uint64_t next_id = 1, next_receipt = 1;
  bool closed = false;
  bool abandoned = false;
  std::vector<std::string> failed_objects;
  std::uint64_t delivered = 0, delivered_bytes = 0;
  detail::AsyncEvent changed;
  // Timers of receive waits and retry backoffs: abandon() cancels them, so none keeps the
  // io_context running after the run.
  std::set<std::shared_ptr<asio::steady_timer>> timers;

  Impl(asio::any_io_executor e, Options o, BackfillState* s) : ex(e), options(o), state(s), changed(e) {}

  SqsMessage message_for(std::uint64_t id, Entry& e) {
    e.receipt = next_receipt++;
    ++e.receives;
    e.outcome.reset();
    in_flight[e.receipt] = id;
    SqsMessage m;
    m.message_id = "backfill-" + std::to_string(id);
    m.receipt_handle = std::to_string(e.receipt);
    m.body = s3_event_notification_body(e.log.object, std::chrono::system_clock::now());
    m.receive_count = e.receives;
    return m;
  }

  // Wakes the receives at the end of their wait (without keeping the queue alive).
  static asio::awaitable<void> wake_at(std::weak_ptr<Impl> weak, std::shared_ptr<asio::steady_timer> tt,
                                       std::shared_ptr<bool> waker) {
    co_await tt->async_wait(asio::as_tuple(asio::use_awaitable));
    auto me = weak.lock();
    if (me) me->timers.erase(tt);
    if (me && !*waker) me->changed.notify_all();
  }

  // A message hidden for `t` (a retry backoff) becomes visible again.
  static asio::awaitable<void> unhide(std::shared_ptr<Impl> self, std::uint64_t id,
                                      std::shared_ptr<asio::steady_timer> tt) {
    co_await tt->async_wait(asio::as_tuple(asio::use_awaitable));
    self->timers.erase(tt);
    --self->hidden;
    if (self->entries.count(id)) self->visible.push_back(id);
    self->changed.notify_all();
  }

  /// The receipt number of a handle this queue gave out, or nullopt.
  static std::optional<std::uint64_t> receipt_of(const std::string& handle) {
    std::uint64_t r = 0;
    const auto* end = handle.data() + handle.size();
    auto [p, ec] = std::from_chars(handle.data(), end, r);
    if (ec != std::errc() || p != end) return std::nullopt;
    return r;
  }

  std::optional<std::uint64_t> take(const std::string& handle) {
    const auto receipt = receipt_of(handle);
    if (!receipt) return std::nullopt;
    auto it = in_flight.find(*receipt);
    if (it == in_flight.end()) return std::nullopt;
    const auto id = it->second;
    in_flight.erase(it);
    entries[id].receipt = 0;
    return id;
  }
};

BackfillQueue::BackfillQueue(asio::any_io_executor executor, Options options, BackfillState* state)
    : impl_(std::make_shared<Impl>(std::move(executor), options, state)) {}
BackfillQueue::~BackfillQueue() = default;

asio::awaitable<bool> BackfillQueue::async_add(std::vector<ListedLog> logs) {
  auto self = impl_;
  for (auto& l : logs) {
    while (self->visible.size() >= self->options.max_buffered && !self->abandoned) co_await self->changed.wait();
    if (self->abandoned) co_return false;
    const auto id = self->next_id++;
    self->entries[id] = Impl::Entry{std::move(l), 0, 0, 0, std::nullopt};
    self->visible.push_back(id);
    self->changed.notify_all();
  }
  co_return !self->abandoned;
}

void BackfillQueue::abandon() {
  impl_->abandoned = true;
  for (auto& t : impl_->timers) t->cancel();
  impl_->changed.notify_all();
}

void BackfillQueue::close() {
  impl_->closed = true;
  impl_->changed.notify_all();
}

asio::awaitable<result<std::vector<SqsMessage>>> BackfillQueue::async_receive(int max_messages, Diagnostics&) {
  auto self = impl_;
  const auto until = steady_clock::now() + self->options.wait_time;
  // A long poll: an empty answer only after the wait (answering at once would let the collector
  // spin while it waits out a retry backoff before it counts empty polls). Once the listing is
  // over and no object is left (none visible, in flight or hidden for a retry), nothing can come:
  // the answer is empty at once, so the backfill's end does not wait out a poll.
  while (self->visible.empty() && steady_clock::now() < until && !self->abandoned &&
         !(self->closed && self->entries.empty())) {
    // Wake on a change, or at the end of the wait.
    auto waker = std::make_shared<bool>(false);
    auto tt = std::make_shared<asio::steady_timer>(self->ex, until);
    if (self->abandoned) tt->cancel();
    self->timers.insert(tt);
    asio::co_spawn(self->ex, Impl::wake_at(self, tt, waker), asio::detached);
    co_await self->changed.wait();
    *waker = true;
  }
  std::vector<SqsMessage> out;
  while (!self->visible.empty() && static_cast<int>(out.size()) < std::max(1, max_messages)) {
    const auto id = self->visible.front();
    self->visible.pop_front();
    out.push_back(self->message_for(id, self->entries[id]));
  }
  if (!out.empty()) self->changed.notify_all();
  co_return out;
}

asio::awaitable<result<std::vector<BatchEntryFailure>>> BackfillQueue::async_delete(std::vector<std::string> handles,
                                                                                   Diagnostics&) {
  auto self = impl_;
  std::vector<BatchEntryFailure> failures;
  std::size_t marked = 0;
  for (const auto& h : handles) {
    auto id = self->take(h);
    if (!id) {
      failures.push_back({h, "ReceiptHandleIsInvalid", "not in flight", true});
      continue;
    }
    auto it = self->entries.find(*id);
    Impl::Entry& e = it->second;
    // Only an object whose events a flush acknowledged is done; a collector also deletes what
    // failed permanently (on_permanent_error.delete_after_receives): given up, never done.
    const bool delivered = e.outcome == MessageOutcome::delivered || e.outcome == MessageOutcome::ignored;
    if (delivered) {
      if (self->state) self->state->mark_done(e.log.day_prefix, e.log.object.key);
      ++self->delivered;
      self->delivered_bytes += e.log.object.size;
      ++marked;
    } else {
      self->failed_objects.push_back(
          "s3://" + e.log.object.bucket + "/" + e.log.object.key +
          (e.outcome == MessageOutcome::permanent_failure
               ? ": failed permanently on receive " + std::to_string(e.receives) +
                     " and was deleted by on_permanent_error.delete_after_receives (the reason is logged above); "
                     "not recorded done"
               : ": deleted without a delivery; not recorded done"));
    }
    self->entries.erase(it);
  }
  if (self->options.on_done && marked > 0) self->options.on_done();
  self->changed.notify_all();
  co_return failures;
}

asio::awaitable<result<std::vector<BatchEntryFailure>>> BackfillQueue::async_change_visibility(
    std::vector<VisibilityChange> changes, Diagnostics&) {
  auto self = impl_;
  std::vector<BatchEntryFailure> failures;
  for (const auto& c : changes) {
    const auto receipt = Impl::receipt_of(c.receipt_handle);
    auto it = receipt ? self->in_flight.find(*receipt) : self->in_flight.end();
    if (it == self->in_flight.end()) {
      failures.push_back({c.receipt_handle, "ReceiptHandleIsInvalid", "not in flight", true});
      continue;
    }
    const auto id = it->second;
    auto& e = self->entries[id];
    // An extension of a message still being read (the collector's visibility timeout) keeps it
    // in flight; any other change ends its receive.
    if (c.timeout == self->options.extension_timeout) continue;
    self->take(c.receipt_handle);
    // Only the object's own failures count (corrupt, over the caps, gone): an outage of S3 or of
    // the output is waited out (the collector pauses, and a drain gives up on a long one).
    if (c.timeout.count() > 0 && e.outcome == MessageOutcome::permanent_failure &&
        ++e.failures >= self->options.max_receives) {
      // Failed on its last receive: given up, as a redrive policy would.
      self->failed_objects.push_back("s3://" + e.log.object.bucket + "/" + e.log.object.key + ": failed " +
                                     std::to_string(e.failures) + " times (the reason is logged above)");
      self->entries.erase(id);
      continue;
    }
    if (c.timeout.count() == 0) {
      // Released (shutdown, sink gave up): visible again, and a receive it does not count.
      --e.receives;
      self->visible.push_front(id);
      continue;
    }
    ++self->hidden;
    auto tt = std::make_shared<asio::steady_timer>(self->ex, c.timeout);
    self->timers.insert(tt);
    if (self->abandoned) tt->cancel();
    asio::co_spawn(self->ex, Impl::unhide(self, id, tt), asio::detached);
  }
  self->changed.notify_all();
  co_return failures;
}

void BackfillQueue::note_outcome(const std::string& receipt_handle, MessageOutcome outcome) {
  const auto receipt = Impl::receipt_of(receipt_handle);
  auto it = receipt ? impl_->in_flight.find(*receipt) : impl_->in_flight.end();
  if (it != impl_->in_flight.end()) impl_->entries[it->second].outcome = outcome;
}

asio::awaitable<result<QueueCounts>> BackfillQueue::async_queue_counts(Diagnostics&) {
  QueueCounts c;
  c.visible = static_cast<std::int64_t>(impl_->visible.size());
  c.in_flight = static_cast<std::int64_t>(impl_->in_flight.size());
  c.delayed = static_cast<std::int64_t>(impl_->hidden) + (impl_->closed ? 0 : 1);
  co_return c;
}

std::vector<std::string> BackfillQueue::failed() const { return impl_->failed_objects; }
std::uint64_t BackfillQueue::delivered() const noexcept { return impl_->delivered; }
std::uint64_t BackfillQueue::delivered_bytes() const noexcept { return impl_->delivered_bytes; }

}  // namespace ctsqs
