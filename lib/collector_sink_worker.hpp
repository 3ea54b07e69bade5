// Private to the collector: drives a Sink from its own thread, with bounded queueing towards it
// (backpressure on the pipeline) and flush barriers that acknowledge what came before them.
#pragma once

#include "collector_async.hpp"
#include "ctsqs/metrics.hpp"
#include "ctsqs/sink.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ctsqs::detail {

/// Owns the sink thread. Producers on the loop executor `push` event batches (waiting while more
/// than `capacity` events are queued) and await `barrier()`: it completes, in push order, with
/// the result of the first flush after everything pushed before it was written; an error when
/// any write or the flush in that window failed (nothing in the window counts as delivered).
///
/// Writes and flushes run on the worker thread only; completions are posted to the loop.
class SinkWorker : public std::enable_shared_from_this<SinkWorker> {
 public:
  SinkWorker(asio::any_io_executor loop, Sink& sink, Metrics& metrics, std::size_t capacity);
  ~SinkWorker();

  void start();
  /// Ask the thread to finish what is queued and exit; join() waits for it.
  void stop();
  void join();

  /// Queue events (moved). Waits while the queue is over capacity. `counted`: false for the
  /// collector's own events (heartbeats), which stay out of the delivered-events metrics.
  asio::awaitable<void> push(std::vector<Event> events, bool counted = true);
  /// Resolves once a flush covering everything pushed before succeeded (or failed).
  asio::awaitable<result<void>> barrier();

 private:
  struct Barrier {
    explicit Barrier(const asio::any_io_executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;  // loop-side; cancelled on completion
    bool done = false;
    error_code ec;
  };
  struct Item {
    std::vector<Event> events;
    std::shared_ptr<Barrier> barrier;  // set for barrier items
    bool counted = true;
  };

  void run();

  asio::any_io_executor loop_;
  Sink& sink_;
  Metrics& metrics_;
  std::size_t capacity_;
  AsyncEvent space_;  // loop-side: capacity freed

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::size_t queued_events_ = 0;  // guarded by mu_
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ctsqs::detail
