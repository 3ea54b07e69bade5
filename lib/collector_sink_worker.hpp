// Private to the collector: drives a Sink from its own thread, with bounded queueing towards it
// (backpressure on the pipeline) and flush barriers that acknowledge what came before them.
#pragma once

#include "collector_async.hpp"
#include "ctsqs/collector/metrics.hpp"
#include "ctsqs/sink/sink.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ctsqs::detail {

/// Owns the sink thread. Producers on the loop executor `push` event batches (waiting while more
/// than `capacity` events are queued) and await `barrier(since)`: it completes, in push order,
/// with the result of the first flush after everything pushed before it was written. It fails
/// when any write or flush failed for a batch pushed at or after the mark `since` — in its own
/// window or an earlier one —, so a message whose first events died with another message's
/// failed flush is never acknowledged by a later good flush. (Batches of other producers after
/// `since` can fail it too: a redelivery, never a loss.)
///
/// Writes and flushes run on the worker thread only; completions are posted to the loop. The
/// thread blocks SIGPIPE and SIGXFSZ (a stdout reader that exits, a file-size limit are then
/// errors — `sink_closed`, EFBIG —, not the end of the process), and an exception thrown by the sink is a failure of its window.
class SinkWorker : public std::enable_shared_from_this<SinkWorker> {
 public:
  SinkWorker(asio::any_io_executor loop, Sink& sink, Metrics& metrics, std::size_t capacity);
  ~SinkWorker();

  /// A flush round that failed, as reported to `on_failure`.
  ///
  /// Streaks are counted per tag: a failed round adds one to the streak of every tag written in
  /// its window (an empty window: to the sink's own, tag ""), a round that acknowledged something
  /// ends the streaks of the tags it delivered (and the sink's own). One file of a directory
  /// output that cannot grow (EFBIG) keeps failing while other tags' files and the heartbeats
  /// still take writes: their good flushes prove nothing about it.
  struct Failure {
    error_code ec;             ///< the write's or the flush's error
    std::string detail;        ///< the sink's Diagnostics::message (or what it threw)
    std::uint64_t streak = 0;  ///< the longest streak of a tag of this round, this one included
    std::chrono::steady_clock::time_point first;  ///< when the first of that tag's failures was
    std::string tag;           ///< that tag ("" when the window held no event)
  };
  /// Called on the loop after each failed round, before that round's barriers complete. Set
  /// before start().
  void on_failure(std::function<void(const Failure&)> f) { on_failure_ = std::move(f); }

  void start();
  /// Ask the thread to finish what is queued and exit; join() waits for it.
  void stop();
  void join();

  /// The mark of the next batch to be pushed: take it before a message pushes its first events.
  std::uint64_t mark();
  /// Queue events (moved). Waits while the queue is over capacity. `counted`: false for the
  /// collector's own events (heartbeats), which stay out of the delivered-events metrics.
  /// `owner`: the thread that allocated them and will call take_spent(owner), as
  /// DecodePool::current_worker() numbers it (0: the loop decoding without a pool); once written
  /// they wait for that call. no_owner: the sink thread frees them.
  asio::awaitable<void> push(std::vector<Event> events, bool counted = true, unsigned owner = no_owner);
  static constexpr unsigned no_owner = ~0u;
  /// The batches of `owner` written since its last call, for it to destroy: freed on the thread
  /// that allocated them, their memory goes back to that thread's malloc cache and arena. Freed
  /// on the sink thread, each string took the lock of the producer's arena while the producer
  /// allocated from it (measured: docs/benchmarks.md). At most spent_limit bytes (the batches'
  /// and their strings' allocations) wait in all, whatever the number of owners; the sink thread
  /// frees a batch that would go over, so memory stays bounded when owners decode less often
  /// than the sink writes.
  std::vector<std::vector<Event>> take_spent(unsigned owner);
  static constexpr std::size_t spent_limit = std::size_t(8) << 20;
  /// Frees every batch still waiting (the run is over: the owners will not ask again).
  void clear_spent();
  /// Resolves once a flush covering everything pushed before succeeded, or with an error when
  /// that flush failed or any batch pushed since the mark `since` was in a failed window; then
  /// `*detail` (when given) is the sink's report of that failure.
  asio::awaitable<result<void>> barrier(std::uint64_t since, std::string* detail = nullptr);

 private:
  struct Barrier {
    explicit Barrier(const asio::any_io_executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;  // loop-side; cancelled on completion
    bool done = false;
    error_code ec;
    std::string detail;       // the failure's report
    std::uint64_t since = 0;  // the producer's mark
  };
  struct Item {
    std::vector<Event> events;
    std::shared_ptr<Barrier> barrier;  // set for barrier items
    bool counted = true;
    std::uint64_t seq = 0;             // batches: 1, 2, 3... in push order
    unsigned owner = no_owner;         // see push()
  };
  // Written batches waiting for their owner's take_spent(), per owner.
  struct Spent {
    std::vector<std::vector<Event>> batches;
    std::size_t bytes = 0;
  };
  void give_back(unsigned owner, std::vector<Event>&& events);

  void run();
  // Runs a sink call `f(Diagnostics&)`; on failure `detail` is the sink's message, and an
  // exception becomes a sink_failed error with its text as the detail.
  template <class F>
  error_code call_sink(F&& f, std::string& detail);

  asio::any_io_executor loop_;
  Sink& sink_;
  Metrics& metrics_;
  std::size_t capacity_;
  AsyncEvent space_;  // loop-side: capacity freed

  std::mutex spent_mu_;
  std::vector<Spent> spent_;       // guarded by spent_mu_; index: owner
  std::size_t spent_bytes_ = 0;    // guarded by spent_mu_: the sum of spent_[*].bytes

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::size_t queued_events_ = 0;  // guarded by mu_
  std::uint64_t next_seq_ = 1;     // guarded by mu_
  std::uint64_t failed_upto_ = 0;  // sink thread only: last batch of any failed window (0: none)
  struct Streak {
    std::uint64_t failed = 0;
    std::chrono::steady_clock::time_point first;
  };
  std::map<std::string, Streak, std::less<>> streaks_;  // sink thread only: per tag, see Failure
  std::string failed_detail_;      // sink thread only: the report of the last failed window
  std::function<void(const Failure&)> on_failure_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ctsqs::detail
