// DecodePool (lib/detail/decode_pool.hpp): the worker threads and their job queue.
#include "detail/decode_pool.hpp"

#include <algorithm>

#include <pthread.h>

namespace ctsqs::detail {

namespace {
thread_local unsigned worker_number = 0;
}

unsigned DecodePool::current_worker() noexcept { return worker_number; }

unsigned DecodePool::resolve(unsigned requested) noexcept {
  return requested ? requested : std::max(1u, std::thread::hardware_concurrency());
}

DecodePool::DecodePool(unsigned threads) {
  const unsigned n = resolve(threads);
  workers_.reserve(n);
  for (unsigned i = 0; i < n; ++i) workers_.emplace_back([this, i] { work(i + 1); });
}

DecodePool::~DecodePool() {
  {
    std::lock_guard lk(m_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void DecodePool::submit(std::unique_ptr<TaskBase> task) {
  {
    std::lock_guard lk(m_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void DecodePool::work(unsigned number) {
  // Named for top -H, perf and gdb (at most 15 characters).
  ::pthread_setname_np(::pthread_self(), "ctsqs-decode");
  worker_number = number;
  std::unique_lock lk(m_);
  for (;;) {
    // Jobs queued before the stop still run: their coroutines wait for them.
    cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lk.unlock();
    task->run();
    task.reset();
    lk.lock();
  }
}

}  // namespace ctsqs::detail
