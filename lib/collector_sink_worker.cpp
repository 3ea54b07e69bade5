// SinkWorker: the collector's sink thread (writes, group-committed flushes, acknowledgements).
#include "collector_sink_worker.hpp"

#include "detail/string_hash.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <unordered_set>
#include <utility>

#include <pthread.h>
#include <signal.h>

namespace ctsqs::detail {

SinkWorker::SinkWorker(asio::any_io_executor loop, Sink& sink, Metrics& metrics, std::size_t capacity)
    : loop_(loop), sink_(sink), metrics_(metrics), capacity_(capacity), space_(loop) {}

SinkWorker::~SinkWorker() {
  stop();
  join();
  // The last owner can be the sink thread itself (a sink left stuck when the grace period
  // expired, which returns later): it cannot join itself, and a joinable std::thread destroyed
  // would terminate the process.
  if (thread_.joinable()) thread_.detach();
}

void SinkWorker::start() {
  thread_ = std::thread([self = shared_from_this()] {
    ::pthread_setname_np(::pthread_self(), "ctsqs-sink");  // for top -H, perf and gdb
    self->run();
  });
}

void SinkWorker::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void SinkWorker::join() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::uint64_t SinkWorker::mark() {
  std::lock_guard lk(mu_);
  return next_seq_;
}

asio::awaitable<void> SinkWorker::push(std::vector<Event> events, bool counted, unsigned owner) {
  if (events.empty()) co_return;
  for (;;) {
    {
      std::lock_guard lk(mu_);
      if (queued_events_ < capacity_ || stopping_) {
        queued_events_ += events.size();
        queue_.push_back(Item{std::move(events), nullptr, counted, next_seq_++, owner});
        break;
      }
    }
    co_await space_.wait();
  }
  cv_.notify_one();
}

asio::awaitable<result<void>> SinkWorker::barrier(std::uint64_t since, std::string* detail) {
  auto b = std::make_shared<Barrier>(loop_);
  b->since = since;
  {
    std::lock_guard lk(mu_);
    if (stopping_) co_return make_error_code(client_errc::cancelled);
    queue_.push_back(Item{{}, b, false});
  }
  cv_.notify_one();
  while (!b->done) co_await b->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (b->ec) {
    if (detail) *detail = b->detail;
    co_return b->ec;
  }
  co_return result<void>{};
}

std::vector<std::vector<Event>> SinkWorker::take_spent(unsigned owner) {
  std::lock_guard lk(spent_mu_);
  if (owner >= spent_.size()) return {};
  spent_bytes_ -= spent_[owner].bytes;
  spent_[owner].bytes = 0;
  return std::exchange(spent_[owner].batches, {});
}

void SinkWorker::clear_spent() {
  std::vector<Spent> all;
  {
    std::lock_guard lk(spent_mu_);
    all.swap(spent_);
    spent_bytes_ = 0;
  }
}

void SinkWorker::give_back(unsigned owner, std::vector<Event>&& events) {
  if (events.empty() || owner == no_owner) return;  // (freed with the item)
  std::size_t bytes = events.capacity() * sizeof(Event);
  for (const auto& e : events)
    for (const std::string* s : {&e.tag, &e.record, &e.columns, &e.event_source, &e.event_type,
                                 &e.recipient_account, &e.aws_region})
      if (s->capacity() > 15) bytes += s->capacity() + 1;  // (15: what a string holds in itself)
  std::lock_guard lk(spent_mu_);
  if (spent_bytes_ + bytes > spent_limit) return;  // freed with the item, here
  try {
    if (owner >= spent_.size()) spent_.resize(owner + 1);
    spent_[owner].batches.push_back(std::move(events));
  } catch (...) {
    return;  // no memory to keep it: push_back had no effect, the batch is freed with the item
  }
  spent_[owner].bytes += bytes;
  spent_bytes_ += bytes;
}

template <class F>
error_code SinkWorker::call_sink(F&& f, std::string& detail) {
  try {
    Diagnostics diag;
    if (result<void> r = f(diag); !r) {
      detail = std::move(diag.message);
      return r.error();
    }
    return {};
  } catch (const std::exception& e) {
    detail = std::string("the sink threw: ") + e.what();
  } catch (...) {
    detail = "the sink threw";
  }
  return make_error_code(client_errc::sink_failed);
}

void SinkWorker::run() {
  auto self = shared_from_this();
  // A write to a pipe whose reader is gone raises SIGPIPE in the writing thread, one past a
  // file-size limit SIGXFSZ: blocked here, they stay pending and the write fails with EPIPE or
  // EFBIG instead of killing an embedding process.
  sigset_t output_signals;
  sigemptyset(&output_signals);
  sigaddset(&output_signals, SIGPIPE);
  sigaddset(&output_signals, SIGXFSZ);
  pthread_sigmask(SIG_BLOCK, &output_signals, nullptr);
  error_code window_error;        // the first write failure since the last flush
  std::string window_detail;
  std::uint64_t window_events = 0;
  std::uint64_t window_last_seq = 0;  // last batch taken into this window
  std::vector<std::string> window_tags;  // the distinct tags of the window's events, first seen first
  std::unordered_set<std::string, StringHash, std::equal_to<>> window_tag_set;  // the same, to look up
  std::vector<std::shared_ptr<Barrier>> barriers;
  for (;;) {
    std::deque<Item> items;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty() && stopping_) break;
      items.swap(queue_);
      std::size_t n = 0;
      for (auto& it : items) n += it.events.size();
      queued_events_ -= n;
    }
    asio::post(loop_, [self] { self->space_.notify_all(); });

    for (auto& it : items) {
      if (it.barrier) {
        barriers.push_back(std::move(it.barrier));
        continue;
      }
      window_last_seq = it.seq;
      for (const auto& e : it.events)
        if (window_tag_set.find(std::string_view(e.tag)) == window_tag_set.end()) {
          window_tag_set.insert(e.tag);
          window_tags.push_back(e.tag);
        }
      for (const auto& e : it.events) {
        if (window_error) break;  // the window will not count; don't pile more on a failing sink
        if (auto ec = call_sink([&](Diagnostics& d) { return sink_.write(e, d); }, window_detail)) {
          window_error = ec;
          metrics_.sink_failures.fetch_add(1, std::memory_order_relaxed);
        }
      }
      if (it.counted) {
        window_events += it.events.size();
        metrics_.events_written.fetch_add(it.events.size(), std::memory_order_relaxed);
      }
      give_back(it.owner, std::move(it.events));
    }
    if (barriers.empty()) continue;

    // One flush acknowledges every barrier of this round (group commit).
    std::string detail;
    error_code ec = call_sink([&](Diagnostics& d) { return sink_.flush(d); }, detail);
    if (ec) {
      metrics_.sink_failures.fetch_add(1, std::memory_order_relaxed);
      // A closed reader is the news, whichever call saw it first.
      if (window_error == client_errc::sink_closed && ec != client_errc::sink_closed) {
        ec = window_error;
        detail = window_detail;
      }
    } else if (window_error) {
      ec = window_error;
      detail = window_detail;
    }
    if (!ec) {
      metrics_.sink_flushes.fetch_add(1, std::memory_order_relaxed);
      if (window_events > 0) {
        metrics_.events_delivered.fetch_add(window_events, std::memory_order_relaxed);
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        metrics_.last_event_unix_ms.store(now_ms, std::memory_order_relaxed);
      }
    }
    // Every batch of a failed window is lost, whichever barrier happened to close the window.
    if (ec) {
      failed_upto_ = std::max(failed_upto_, window_last_seq);
      failed_detail_ = detail.empty() ? ec.message() : detail;
      const auto now = std::chrono::steady_clock::now();
      if (window_tags.empty()) window_tags.emplace_back();
      Failure f{ec, detail, 0, now, {}};
      for (const auto& tag : window_tags) {
        auto& st = streaks_[tag];
        if (st.failed++ == 0) st.first = now;
        if (st.failed > f.streak || (st.failed == f.streak && st.first < f.first)) {
          f.streak = st.failed;
          f.first = st.first;
          f.tag = tag;
        }
      }
      if (on_failure_) asio::post(loop_, [self, f = std::move(f)] { self->on_failure_(f); });
    }
    bool acknowledged = false;
    for (auto& b : barriers) {
      b->ec = ec;
      if (!ec && b->since <= failed_upto_) b->ec = make_error_code(client_errc::sink_failed);
      if (b->ec) b->detail = failed_detail_;
      acknowledged = acknowledged || !b->ec;
    }
    // Only a flush that acknowledged something ends streaks, those of the tags it delivered:
    // one that "succeeded" with nothing left to write (the failed window's lines were
    // discarded) proves nothing about the sink.
    if (acknowledged) {
      streaks_.erase(std::string());
      for (const auto& tag : window_tags) streaks_.erase(tag);
    }
    window_error = {};
    window_detail.clear();
    window_events = 0;
    window_tags.clear();
    window_tag_set.clear();
    asio::post(loop_, [bs = std::move(barriers)] {
      for (auto& b : bs) {
        b->done = true;
        b->timer.cancel();
      }
    });
    barriers.clear();
  }
}

}  // namespace ctsqs::detail
