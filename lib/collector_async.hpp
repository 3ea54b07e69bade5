// Private helpers of the collector: a counting semaphore and a broadcast event for coroutines
// on one single-threaded executor.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <memory>

namespace ctsqs::detail {

namespace asio = boost::asio;

/// Counting semaphore for coroutines of one strand/thread. FIFO; `close()` wakes every waiter
/// (acquire then returns false).
class AsyncSemaphore {
 public:
  AsyncSemaphore(asio::any_io_executor ex, std::size_t count)
      : ex_(std::move(ex)), count_(count), capacity_(count) {}

  /// Take one unit; false when the semaphore was closed while waiting.
  asio::awaitable<bool> acquire() {
    if (closed_) co_return false;
    if (count_ > 0 && waiters_.empty()) {
      --count_;
      co_return true;
    }
    auto w = std::make_shared<Waiter>(ex_);
    waiters_.push_back(w);
    while (!w->granted && !closed_) {
      co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return w->granted;
  }

  /// Take one unit if one is free right now (and nobody waits for it).
  bool try_acquire() {
    if (closed_ || count_ == 0 || !waiters_.empty()) return false;
    --count_;
    return true;
  }

  void release(std::size_t n = 1) {
    const auto repaid = std::min(debt_, n);  // units taken back by a smaller capacity
    debt_ -= repaid;
    n -= repaid;
    while (n > 0 && !waiters_.empty()) {
      auto w = waiters_.front();
      waiters_.pop_front();
      w->granted = true;
      w->timer.cancel();
      --n;
    }
    count_ += n;
  }

  void close() {
    closed_ = true;
    for (auto& w : waiters_) w->timer.cancel();
    waiters_.clear();
  }

  std::size_t available() const noexcept { return count_; }
  std::size_t capacity() const noexcept { return capacity_; }

  /// Changes the number of units: more wakes waiters at once; fewer takes free units back
  /// and the rest as holders release them.
  void set_capacity(std::size_t n) {
    if (n > capacity_) {
      auto add = n - capacity_;
      const auto repaid = std::min(debt_, add);
      debt_ -= repaid;
      add -= repaid;
      capacity_ = n;
      release(add);
    } else if (n < capacity_) {
      const auto cut = capacity_ - n;
      const auto now = std::min(count_, cut);
      count_ -= now;
      debt_ += cut - now;
      capacity_ = n;
    }
  }

 private:
  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool granted = false;
  };
  asio::any_io_executor ex_;
  std::size_t count_;
  std::size_t capacity_;
  std::size_t debt_ = 0;  ///< units to swallow from future releases after a shrink
  bool closed_ = false;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

/// Wakes every coroutine waiting at the time of notify_all(). Callers re-check their condition.
class AsyncEvent {
 public:
  explicit AsyncEvent(asio::any_io_executor ex) : ex_(std::move(ex)) {}

  asio::awaitable<void> wait() { co_await wait_until(asio::steady_timer::time_point::max()); }

  /// As wait(), or until `deadline`.
  asio::awaitable<void> wait_until(asio::steady_timer::time_point deadline) {
    auto t = std::make_shared<asio::steady_timer>(ex_, deadline);
    timers_.push_back(t);
    co_await t->async_wait(asio::as_tuple(asio::use_awaitable));
  }

  void notify_all() {
    auto timers = std::move(timers_);
    timers_.clear();
    for (auto& t : timers) t->cancel();
  }

 private:
  asio::any_io_executor ex_;
  std::deque<std::shared_ptr<asio::steady_timer>> timers_;
};

/// Sleep on the current coroutine's executor.
inline asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace ctsqs::detail
