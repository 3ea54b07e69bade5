// decode_files (include/ctsqs/decode/file_decode.hpp): local files decoded on a pool of worker threads,
// their events handed to the caller's thread file by file through bounded queues.
#include "ctsqs/decode/file_decode.hpp"

#include "detail/file_decode_lines.hpp"
#include "detail/gzip_inflate.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ctsqs {
namespace {

namespace fs = std::filesystem;

bool wanted_file(const fs::path& p, std::optional<RecordLayout> layout) {
  const std::string n = p.filename().string();
  auto ends = [&](std::string_view s) {
    return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
  };
  if (!layout) return !n.empty() && n[0] != '.';
  switch (*layout) {
    case RecordLayout::records_array: return ends(".json") || ends(".json.gz");
    case RecordLayout::json_values: return ends(".jsonl") || ends(".jsonl.gz");
    default: return !n.empty() && n[0] != '.';
  }
}

// Reads `fd` to the end into `buf` (`expect` bytes expected).
bool read_whole(int fd, std::string& buf, std::size_t expect, std::string& err) {
  buf.resize(expect + 1);
  std::size_t len = 0;
  for (;;) {
    if (len == buf.size()) buf.resize(buf.size() * 2);
    const ssize_t n = ::read(fd, buf.data() + len, buf.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  buf.resize(len);
  return true;
}

// One input's descriptor for the length of its decode (stdin is not closed). fd is -1, and
// `out.message` names the input and says why, when it cannot be opened.
struct InputFile {
  int fd = -1;
  bool own = false;
  InputFile(const FileInput& in, FileOutcome& out) {
    if (!in.open_error.empty()) {
      out.message = in.name + ": " + in.open_error;
      return;
    }
    fd = in.stdin_input ? 0 : ::open(in.name.c_str(), O_RDONLY | O_CLOEXEC);
    own = !in.stdin_input && fd >= 0;
    if (fd < 0) out.message = in.name + ": " + std::strerror(errno);
  }
  ~InputFile() {
    if (own) ::close(fd);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
};

// One input through `decoder`: read whole when small, else streamed in chunks.
FileOutcome decode_one(CloudTrailDecoder& decoder, const FileInput& in, std::string& buf,
                       const FileDecodeOptions& opt, EventHandler handler) {
  FileOutcome out;
  InputFile file(in, out);
  if (file.fd < 0) return out;
  const int fd = file.fd;
  Diagnostics diag;
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  std::string read_err;
  if (regular && static_cast<std::uint64_t>(st.st_size) <= opt.whole_read_limit) {
    if (read_whole(fd, buf, static_cast<std::size_t>(st.st_size), read_err))
      out.summary = decoder.decode_buffer(in.name, buf, handler, diag);
  } else {
    if (regular) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    decoder.begin(in.name);
    buf.resize(opt.chunk_bytes);
    bool ok = true;
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        read_err = std::strerror(errno);
        ok = false;
        break;
      }
      if (n == 0) break;
      if (auto f = decoder.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)), handler, diag);
          !f) {
        out.summary = f.error();
        ok = false;
        break;
      }
    }
    if (ok) out.summary = decoder.finish(handler, diag);
  }
  if (!read_err.empty()) {
    out.summary = make_error_code(client_errc::io_error);
    out.message = in.name + ": read failed: " + read_err + "; " +
                  std::to_string(decoder.summary().events) + " events from it were already written";
  } else if (!out.summary) {
    out.message = diag.message.empty() ? in.name + ": " + out.summary.error().message() : diag.message;
  }
  return out;
}

// One input through a service handler's decoder: read whole when small, else in chunks; its
// events (already tagged and filtered) go to `handler` one by one.
FileOutcome decode_one_payload(PayloadDecoder& decoder, const FileInput& in, std::string& buf,
                               std::vector<Event>& events, const FileDecodeOptions& opt, EventHandler handler) {
  FileOutcome out;
  events.clear();  // what an earlier input's handler threw out of is not this input's
  InputFile file(in, out);
  if (file.fd < 0) return out;
  const int fd = file.fd;
  Diagnostics diag;
  ObjectSummary summary;
  summary.object_name = in.name;
  auto hand_over = [&] {
    for (auto& e : events) handler(e);
    summary.events += events.size();
    events.clear();
  };
  decoder.begin(in.name);
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  std::string read_err;
  result<void> fed;
  if (regular && static_cast<std::uint64_t>(st.st_size) <= opt.whole_read_limit) {
    if (read_whole(fd, buf, static_cast<std::size_t>(st.st_size), read_err)) {
      summary.compressed_bytes = buf.size();
      fed = decoder.feed(buf, events, diag);
      hand_over();
    }
  } else {
    if (regular) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    buf.resize(opt.chunk_bytes);
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        read_err = std::strerror(errno);
        break;
      }
      if (n == 0) break;
      summary.compressed_bytes += static_cast<std::uint64_t>(n);
      fed = decoder.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)), events, diag);
      hand_over();
      if (!fed) break;
    }
  }
  if (read_err.empty() && fed) {
    fed = decoder.finish(events, diag);
    hand_over();
  }
  out.filtered = decoder.filtered();
  if (!read_err.empty()) {
    out.summary = make_error_code(client_errc::io_error);
    out.message = in.name + ": read failed: " + read_err + "; " + std::to_string(summary.events) +
                  " events from it were already written";
  } else if (!fed) {
    out.summary = fed.error();
    // A handler's message may not name the file: the summary line must.
    const std::string why = diag.message.empty() ? fed.error().message() : diag.message;
    out.message = why.rfind(in.name, 0) == 0 ? why : in.name + ": " + why;
  } else {
    summary.skipped = decoder.skipped();
    out.summary = std::move(summary);
  }
  return out;
}

// Workers stream every object when the inflater streams as fast as it inflates whole buffers
// (ISA-L; measured in docs/benchmarks.md): no whole-object buffers per worker, and the
// inflated pieces stay in cache for the parser.
DecoderOptions stream_options(DecoderOptions o) {
  if (gzip::stream_backend() == "isal") o.gather_bytes = o.whole_buffer_limit = 0;
  return o;
}

// The decoder of one thread: a CloudTrailDecoder, or a service handler's when the options have a
// factory, with the buffers it reuses input after input.
class ThreadDecoder {
 public:
  explicit ThreadDecoder(const FileDecodeOptions& opt) {
    if (opt.make_decoder)
      payload_ = opt.make_decoder();
    else
      trail_.emplace(stream_options(opt.decoder));
  }
  FileOutcome decode(const FileInput& in, const FileDecodeOptions& opt, EventHandler handler) {
    if (trail_) return decode_one(*trail_, in, buf_, opt, handler);
    if (payload_) return decode_one_payload(*payload_, in, buf_, events_, opt, handler);
    FileOutcome out;
    out.message = in.name + ": FileDecodeOptions::make_decoder gave no decoder";
    return out;
  }

 private:
  std::optional<CloudTrailDecoder> trail_;
  std::unique_ptr<PayloadDecoder> payload_;
  std::string buf_;
  std::vector<Event> events_;
};

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

std::vector<FileInput> collect_file_inputs(const std::vector<std::string>& paths, RecordLayout layout) {
  return collect_file_inputs(paths, std::optional<RecordLayout>(layout));
}

std::vector<FileInput> collect_file_inputs(const std::vector<std::string>& paths,
                                           std::optional<RecordLayout> layout) {
  std::vector<FileInput> out;
  for (const auto& p : paths) {
    if (p == "-") {
      out.push_back({"-", true, {}});
      continue;
    }
    std::error_code ec;
    const auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      out.push_back({p, false, "no such file or directory"});
      continue;
    }
    if (!fs::is_directory(st)) {
      out.push_back({p, false, {}});
      continue;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code fec;
      if (it->is_regular_file(fec) && wanted_file(it->path(), layout)) found.push_back(it->path().string());
    }
    if (ec) out.push_back({p, false, "listing failed: " + ec.message()});
    std::sort(found.begin(), found.end());
    for (auto& f : found) out.push_back({std::move(f), false, {}});
  }
  return out;
}

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
