// DecodePool: worker threads that run CPU work (inflate, parse, flatten, format, hash) for
// coroutines of one event loop; the coroutine waits without blocking the loop.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ctsqs::detail {

/// A fixed set of worker threads and one FIFO of jobs. `run(job)` hands a job to a worker and
/// resumes the calling coroutine on its own executor once the job returned (or threw: the
/// exception is rethrown there). The loop keeps doing I/O meanwhile.
///
/// Ordering: jobs of one coroutine run one after another (it waits for each), so the work of one
/// object, chunk after chunk, stays in order and touches its decoder from one thread at a time
/// (each hand-over is a mutex release/acquire: the next worker sees everything the last did).
/// Memory: a coroutine has at most one job queued or running; the queue is as long as the
/// number of coroutines using the pool (the collector's objects in flight), never longer.
///
/// Thread safety: `run` may be called from any thread; the destructor waits for the jobs queued
/// and running, and must not be called from one of the workers (a job's completion is posted
/// to its loop, so no coroutine frame, and no owner of the pool, ends on a worker).
class DecodePool {
 public:
  /// `threads` workers; 0 = the machine's cores (std::thread::hardware_concurrency()).
  explicit DecodePool(unsigned threads);
  ~DecodePool();
  DecodePool(const DecodePool&) = delete;
  DecodePool& operator=(const DecodePool&) = delete;

  unsigned threads() const noexcept { return static_cast<unsigned>(workers_.size()); }

  /// The threads `requested` resolves to: itself, or the machine's cores for 0 (at least 1).
  static unsigned resolve(unsigned requested) noexcept;

  /// On a worker of a pool, its number (1, 2, ...); 0 on any other thread. The collector's sink
  /// gives each batch of events back to the thread that allocated it, to be freed there.
  static unsigned current_worker() noexcept;

  /// Runs `job()` on a worker; the coroutine resumes on its executor after it. `job` is taken
  /// by reference: it lives in the caller's frame, which waits.
  template <class F>
  boost::asio::awaitable<void> run(F& job) {
    std::exception_ptr error;
    auto body = [&job, &error]() noexcept {
      try {
        job();
      } catch (...) {
        error = std::current_exception();
      }
    };
    co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void()>(
        [this, &body](auto handler) {
          using Handler = decltype(handler);
          submit(std::make_unique<Task<decltype(body), Handler>>(body, std::move(handler)));
        },
        boost::asio::use_awaitable);
    if (error) std::rethrow_exception(error);
  }

 private:
  struct TaskBase {
    virtual ~TaskBase() = default;
    virtual void run() noexcept = 0;
  };
  // The job, then the coroutine's completion posted back to its executor (which counts as
  // outstanding work until then, so the loop does not run out of work while a job runs).
  template <class Body, class Handler>
  struct Task final : TaskBase {
    Body& body;
    Handler handler;
    decltype(boost::asio::prefer(std::declval<boost::asio::associated_executor_t<Handler>>(),
                                 boost::asio::execution::outstanding_work.tracked)) work;
    Task(Body& b, Handler&& h)
        : body(b),
          handler(std::move(h)),
          work(boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                   boost::asio::execution::outstanding_work.tracked)) {}
    void run() noexcept override {
      body();
      boost::asio::post(work, std::move(handler));
    }
  };

  void submit(std::unique_ptr<TaskBase> task);
  void work(unsigned number);

  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<TaskBase>> queue_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace ctsqs::detail
