// decode_files and decode_files_to_lines (include/ctsqs/decode/file_decode.hpp,
// detail/file_decode_lines.hpp): local files decoded on worker threads, each by its ThreadDecoder
// (file_decode_input.cpp); events handed to the caller's thread file by file through bounded
// queues, or lines written by the decoding threads themselves.
#include "ctsqs/decode/file_decode.hpp"

#include "detail/file_decode_lines.hpp"
#include "detail/thread_decoder.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace ctsqs {
namespace {

using detail::ThreadDecoder;

// Thrown inside a worker's event handler when the caller stopped: unwinds the decode.
struct Stopped {};

std::size_t event_bytes(const Event& e) { return e.record.size() + e.columns.size() + 64; }

// Events on their way to the caller. Batches are recycled and events swapped into them, so the
// strings keep their capacity: no copy and no allocation per event, nothing freed on another
// thread.
struct EventBatch {
  std::vector<Event> events;
  std::size_t used = 0;
  std::size_t bytes = 0;
  void reset() { used = bytes = 0; }
};

// A worker's side of the event path: each event swapped into the batch.
struct EventStage {
  void begin(const FileInput&) {}
  void add(Event& e, EventBatch& b) {
    b.bytes += event_bytes(e);
    // Swapped, not copied: the decoder overwrites every field of its event for the next
    // record, into the strings of an event already handed over (their capacity kept).
    if (b.used == b.events.size()) b.events.emplace_back();
    std::swap(b.events[b.used], e);
    ++b.used;
  }
};

// A worker's side of the line path: its formatter appends each event's line to the batch.
struct LineStage {
  detail::LineFormatter* formatter;
  void begin(const FileInput& in) { formatter->begin(in); }
  void add(Event& e, detail::LineBatch& b) { formatter->format(e, b); }
};

// An input being decoded: its batches wait here for the caller.
template <class Batch>
struct Slot {
  std::deque<Batch> batches;
  std::size_t bytes = 0;
  bool done = false;
  FileOutcome outcome;
};

// Inputs decoded on worker threads, each through a Stage of its worker's (made by `make_stage`
// on that thread) into Batches that the caller's thread takes in turn. `Batch` has `bytes` and
// `reset()`.
template <class Batch, class MakeStage>
class Pool {
 public:
  using OnBegin = std::function<void(const FileInput&)>;
  using OnBatch = std::function<void(const FileInput&, Batch&)>;
  using OnDone = std::function<void(const FileInput&, FileOutcome&)>;

  Pool(const std::vector<FileInput>& inputs, const FileDecodeOptions& opt, unsigned threads, MakeStage make_stage)
      : inputs_(inputs), opt_(opt), make_stage_(std::move(make_stage)), slots_(inputs.size()),
        max_in_flight_(threads + 2) {
    workers_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  void run(const OnBegin& on_begin, const OnBatch& on_batch, const OnDone& on_done) {
    if (!opt_.ordered) return run_interleaved(on_begin, on_batch, on_done);
    for (std::size_t idx = 0; idx < inputs_.size(); ++idx) {
      Slot<Batch>* slot = nullptr;
      {
        std::unique_lock lk(m_);
        cv_caller_.wait(lk, [&] { return slots_[idx] != nullptr; });
        slot = slots_[idx].get();
      }
      if (on_begin) on_begin(inputs_[idx]);
      std::optional<Batch> batch;
      for (;;) {
        {
          std::unique_lock lk(m_);
          recycle(batch);
          cv_caller_.wait(lk, [&] { return !slot->batches.empty() || slot->done; });
          if (slot->batches.empty()) break;
          batch.emplace(std::move(slot->batches.front()));
          slot->batches.pop_front();
          slot->bytes -= batch->bytes;
        }
        cv_work_.notify_all();
        on_batch(inputs_[idx], *batch);
      }
      FileOutcome outcome = std::move(slot->outcome);
      {
        std::lock_guard lk(m_);
        slots_[idx].reset();
        --in_flight_;
      }
      cv_work_.notify_all();
      on_done(inputs_[idx], outcome);
    }
  }

 private:
  // Called with m_ held: a batch the caller is done with goes back to the workers.
  void recycle(std::optional<Batch>& batch) {
    if (!batch) return;
    batch->reset();
    free_.push_back(std::move(*batch));
    batch.reset();
  }

  // Unordered: the caller takes the next batch of any input, in turn, so that no worker waits
  // for another input to be written whole; each input's batches stay in order, and its
  // `on_begin` comes before them, its `on_done` after them.
  void run_interleaved(const OnBegin& on_begin, const OnBatch& on_batch, const OnDone& on_done) {
    std::vector<char> begun(inputs_.size(), 0);
    std::size_t lo = 0;    // inputs below were all handed over
    std::size_t last = 0;  // the input served last: the search starts after it
    std::optional<Batch> batch;
    for (std::size_t finished = 0; finished < inputs_.size();) {
      std::size_t idx = 0;
      bool end = false;
      FileOutcome outcome;
      {
        std::unique_lock lk(m_);
        recycle(batch);
        cv_caller_.wait(lk, [&] {
          while (lo < next_ && !slots_[lo]) ++lo;
          const std::size_t n = next_ - lo;
          for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = lo + (last + 1 - lo + k) % n;
            const Slot<Batch>* sl = slots_[i].get();
            if (sl && (!sl->batches.empty() || sl->done)) {
              idx = i;
              return true;
            }
          }
          return false;
        });
        last = idx;
        Slot<Batch>* sl = slots_[idx].get();
        if (!sl->batches.empty()) {
          batch.emplace(std::move(sl->batches.front()));
          sl->batches.pop_front();
          sl->bytes -= batch->bytes;
        } else {
          outcome = std::move(sl->outcome);
          slots_[idx].reset();
          --in_flight_;
          end = true;
        }
      }
      cv_work_.notify_all();
      if (!begun[idx]) {
        begun[idx] = 1;
        if (on_begin) on_begin(inputs_[idx]);
      }
      if (end) {
        on_done(inputs_[idx], outcome);
        ++finished;
        continue;
      }
      on_batch(inputs_[idx], *batch);
    }
  }

  void work() {
    ThreadDecoder decoder(opt_);
    auto stage = make_stage_();
    const std::size_t batch_limit = std::max<std::size_t>(opt_.queue_bytes / 4, 1);
    for (;;) {
      std::size_t idx;
      Slot<Batch>* slot;
      {
        std::unique_lock lk(m_);
        cv_work_.wait(lk, [&] { return stop_ || next_ == inputs_.size() || in_flight_ < max_in_flight_; });
        if (stop_ || next_ == inputs_.size()) return;
        idx = next_++;
        ++in_flight_;
        slots_[idx] = std::make_unique<Slot<Batch>>();
        slot = slots_[idx].get();
      }
      cv_caller_.notify_all();
      Batch batch;
      auto push = [&] {
        std::unique_lock lk(m_);
        cv_work_.wait(lk, [&] { return stop_ || slot->bytes < opt_.queue_bytes; });
        if (stop_) throw Stopped{};
        slot->bytes += batch.bytes;
        slot->batches.push_back(std::move(batch));
        batch = Batch{};
        if (!free_.empty()) {
          batch = std::move(free_.back());
          free_.pop_back();
        }
        lk.unlock();
        cv_caller_.notify_all();
      };
      FileOutcome outcome;
      try {
        stage.begin(inputs_[idx]);
        outcome = decoder.decode(inputs_[idx], opt_, [&](Event& e) {
          stage.add(e, batch);
          if (batch.bytes >= batch_limit) push();
        });
        if (batch.bytes != 0) push();
      } catch (const Stopped&) {
        return;
      } catch (const std::exception& e) {
        outcome.summary = make_error_code(client_errc::io_error);
        outcome.message = inputs_[idx].name + ": " + e.what();
      }
      {
        std::lock_guard lk(m_);
        slot->outcome = std::move(outcome);
        slot->done = true;
      }
      cv_caller_.notify_all();
    }
  }

  const std::vector<FileInput>& inputs_;
  const FileDecodeOptions& opt_;
  MakeStage make_stage_;
  std::mutex m_;
  std::condition_variable cv_work_;    // workers wait: room in a queue, a slot free, stop
  std::condition_variable cv_caller_;  // the caller waits: batches, an input done or started
  std::vector<std::unique_ptr<Slot<Batch>>> slots_;  // by input index, while in flight
  std::vector<Batch> free_;                          // consumed batches, for the workers to refill
  std::size_t next_ = 0;                             // next input to start
  std::size_t in_flight_ = 0;                        // started, not yet handed over whole
  const std::size_t max_in_flight_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Unordered lines: every decoding thread (the caller's among them) writes its own batches, one
// thread at a time under the output lock, so that nothing waits on a hand-over between threads.
class LineWriters {
 public:
  using OnBegin = std::function<void(const FileInput&)>;
  using OnLines = std::function<void(const FileInput&, detail::LineBatch&)>;
  using OnDone = std::function<void(const FileInput&, FileOutcome&)>;

  LineWriters(const std::vector<FileInput>& inputs, const FileDecodeOptions& opt,
              const std::function<detail::LineFormatter*()>& formatter_for_thread, const OnBegin& on_begin,
              const OnLines& on_lines, const OnDone& on_done)
      : inputs_(inputs), opt_(opt), formatter_for_thread_(formatter_for_thread), on_begin_(on_begin),
        on_lines_(on_lines), on_done_(on_done) {}

  // Runs `threads` decoding threads, this one among them; rethrows a callback's exception once
  // they have all ended.
  void run(unsigned threads) {
    std::vector<std::thread> others;
    // Whatever happens here, the other threads are stopped and joined before this returns.
    struct JoinAll {
      LineWriters& w;
      std::vector<std::thread>& threads;
      ~JoinAll() {
        w.fail(nullptr);
        for (auto& t : threads)
          if (t.joinable()) t.join();
      }
    } join_all{*this, others};
    others.reserve(threads - 1);
    for (unsigned i = 1; i < threads; ++i) others.emplace_back([this] { work(); });
    work();
    for (auto& t : others) t.join();
    std::lock_guard lk(out_m_);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Stops every thread; `e` (when set and the first) is rethrown by run().
  void fail(std::exception_ptr e) {
    std::lock_guard lk(out_m_);
    if (e && !error_) error_ = std::move(e);
    stop_ = true;
  }

  // Runs `f` under the output lock; a callback's exception stops every thread.
  template <class F>
  void locked(F&& f) {
    std::lock_guard lk(out_m_);
    if (stop_) throw Stopped{};
    try {
      f();
    } catch (...) {
      if (!error_) error_ = std::current_exception();
      stop_ = true;
      throw Stopped{};
    }
  }

  // A thread's whole run: what escapes its inputs' handling (its decoder or formatter could not
  // be made, an exception not derived from std::exception) stops them all, rethrown by run().
  void work() {
    try {
      work_inputs();
    } catch (const Stopped&) {
    } catch (...) {
      fail(std::current_exception());
    }
  }

  void work_inputs() {
    ThreadDecoder decoder(opt_);
    detail::LineFormatter* formatter = formatter_for_thread_();
    const std::size_t batch_limit = std::max<std::size_t>(opt_.queue_bytes / 4, 1);
    detail::LineBatch batch;
    for (;;) {
      const std::size_t idx = next_.fetch_add(1);
      if (idx >= inputs_.size() || stopped()) return;
      const FileInput& in = inputs_[idx];
      bool begun = false;
      auto begin_once = [&] {
        if (!begun && on_begin_) on_begin_(in);
        begun = true;
      };
      auto hand_on = [&] {
        locked([&] {
          begin_once();
          on_lines_(in, batch);
        });
        batch.reset();
      };
      FileOutcome outcome;
      try {
        formatter->begin(in);
        outcome = decoder.decode(in, opt_, [&](Event& e) {
          formatter->format(e, batch);
          if (batch.bytes >= batch_limit) hand_on();
        });
        if (batch.bytes != 0) hand_on();
      } catch (const Stopped&) {
        return;
      } catch (const std::exception& e) {
        outcome.summary = make_error_code(client_errc::io_error);
        outcome.message = in.name + ": " + e.what();
        batch.reset();
      }
      try {
        locked([&] {
          begin_once();
          on_done_(in, outcome);
        });
      } catch (const Stopped&) {
        return;
      }
    }
  }

  const std::vector<FileInput>& inputs_;
  const FileDecodeOptions& opt_;
  const std::function<detail::LineFormatter*()>& formatter_for_thread_;
  const OnBegin& on_begin_;
  const OnLines& on_lines_;
  const OnDone& on_done_;
  bool stopped() {
    std::lock_guard lk(out_m_);
    return stop_;
  }

  std::atomic<std::size_t> next_{0};  // next input to start
  std::mutex out_m_;                  // one thread in the callbacks at a time
  bool stop_ = false;                 // under out_m_: a callback failed
  std::exception_ptr error_;          // under out_m_: its exception
};

unsigned decode_threads(const std::vector<FileInput>& inputs, const FileDecodeOptions& opt) {
  const unsigned threads = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::min<std::size_t>(threads, inputs.size()));
}

}  // namespace


void decode_files(const std::vector<FileInput>& inputs, const FileDecodeOptions& opt,
                  const std::function<void(const FileInput&)>& on_begin,
                  const std::function<void(Event&)>& on_event,
                  const std::function<void(const FileInput&, FileOutcome&)>& on_done) {
  const unsigned threads = decode_threads(inputs, opt);
  if (threads <= 1) {
    // One thread: the caller's, no queues.
    ThreadDecoder decoder(opt);
    for (const auto& in : inputs) {
      if (on_begin) on_begin(in);
      FileOutcome o = decoder.decode(in, opt, [&](Event& e) { on_event(e); });
      on_done(in, o);
    }
    return;
  }
  Pool<EventBatch, std::function<EventStage()>> pool(inputs, opt, threads, [] { return EventStage{}; });
  // An exception ends the pool (its destructor stops it).
  pool.run(on_begin,
           [&](const FileInput&, EventBatch& b) {
             for (std::size_t i = 0; i < b.used; ++i) on_event(b.events[i]);
           },
           on_done);
}

namespace detail {

void decode_files_to_lines(const std::vector<FileInput>& inputs, const FileDecodeOptions& opt,
                           const std::function<LineFormatter*()>& formatter_for_thread,
                           const std::function<void(const FileInput&)>& on_begin,
                           const std::function<void(const FileInput&, LineBatch&)>& on_lines,
                           const std::function<void(const FileInput&, FileOutcome&)>& on_done) {
  const unsigned threads = decode_threads(inputs, opt);
  if (threads <= 1) {
    // One thread: the caller's, formatting into one batch handed on as it fills.
    ThreadDecoder decoder(opt);
    LineFormatter* formatter = formatter_for_thread();
    const std::size_t batch_limit = std::max<std::size_t>(opt.queue_bytes / 4, 1);
    LineBatch batch;
    for (const auto& in : inputs) {
      if (on_begin) on_begin(in);
      formatter->begin(in);
      FileOutcome o = decoder.decode(in, opt, [&](Event& e) {
        formatter->format(e, batch);
        if (batch.bytes >= batch_limit) {
          on_lines(in, batch);
          batch.reset();
        }
      });
      if (batch.bytes != 0) {
        on_lines(in, batch);
        batch.reset();
      }
      on_done(in, o);
    }
    return;
  }
  if (!opt.ordered) {
    LineWriters(inputs, opt, formatter_for_thread, on_begin, on_lines, on_done).run(threads);
    return;
  }
  Pool<LineBatch, std::function<LineStage()>> pool(inputs, opt, threads,
                                                   [&] { return LineStage{formatter_for_thread()}; });
  pool.run(on_begin, on_lines, on_done);
}

}  // namespace detail

}  // namespace ctsqs
