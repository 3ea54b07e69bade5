// decode_files (include/ctsqs/decode/file_decode.hpp): local files decoded on a pool of worker threads,
// their events handed to the caller's thread file by file through bounded queues.
#include "ctsqs/decode/file_decode.hpp"

#include "detail/gzip_inflate.hpp"

#include <algorithm>
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

// Events on their way to the caller. Batches are recycled and events swapped into them, so the
// strings keep their capacity: no copy and no allocation per event, nothing freed on another
// thread.
struct Batch {
  std::vector<Event> events;
  std::size_t used = 0;
  std::size_t bytes = 0;
};

// An input being decoded: its events wait here for the caller.
struct Slot {
  std::deque<Batch> batches;
  std::size_t bytes = 0;
  bool done = false;
  FileOutcome outcome;
};

std::size_t event_bytes(const Event& e) { return e.record.size() + e.columns.size() + 64; }

class Pool {
 public:
  Pool(const std::vector<FileInput>& inputs, const FileDecodeOptions& opt, unsigned threads)
      : inputs_(inputs), opt_(opt), slots_(inputs.size()), max_in_flight_(threads + 2) {
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

  void run(const std::function<void(const FileInput&)>& on_begin,
           const std::function<void(Event&)>& on_event,
           const std::function<void(const FileInput&, FileOutcome&)>& on_done) {
    if (!opt_.ordered) return run_interleaved(on_begin, on_event, on_done);
    for (std::size_t k = 0; k < inputs_.size(); ++k) {
      std::size_t idx = 0;
      Slot* slot = nullptr;
      {
        std::unique_lock lk(m_);
        cv_caller_.wait(lk, [&] { return slots_[k] != nullptr; });
        idx = k;
        slot = slots_[idx].get();
      }
      if (on_begin) on_begin(inputs_[idx]);
      Batch batch;
      for (;;) {
        {
          std::unique_lock lk(m_);
          if (batch.events.capacity() != 0) {
            batch.used = batch.bytes = 0;
            free_.push_back(std::move(batch));
          }
          cv_caller_.wait(lk, [&] { return !slot->batches.empty() || slot->done; });
          if (slot->batches.empty()) break;
          batch = std::move(slot->batches.front());
          slot->batches.pop_front();
          slot->bytes -= batch.bytes;
        }
        cv_work_.notify_all();
        for (std::size_t i = 0; i < batch.used; ++i) on_event(batch.events[i]);
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
  // Unordered: the caller takes the next batch of any input, in turn, so that no worker waits
  // for another input to be written whole; each input's events stay in order, and its
  // `on_begin` comes before them, its `on_done` after them.
  void run_interleaved(const std::function<void(const FileInput&)>& on_begin,
                       const std::function<void(Event&)>& on_event,
                       const std::function<void(const FileInput&, FileOutcome&)>& on_done) {
    std::vector<char> begun(inputs_.size(), 0);
    std::size_t lo = 0;    // inputs below were all handed over
    std::size_t last = 0;  // the input served last: the search starts after it
    Batch batch;
    for (std::size_t finished = 0; finished < inputs_.size();) {
      std::size_t idx = 0;
      bool end = false;
      FileOutcome outcome;
      {
        std::unique_lock lk(m_);
        if (batch.events.capacity() != 0) {
          batch.used = batch.bytes = 0;
          free_.push_back(std::move(batch));
          batch = Batch{};
        }
        cv_caller_.wait(lk, [&] {
          while (lo < next_ && !slots_[lo]) ++lo;
          const std::size_t n = next_ - lo;
          for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = lo + (last + 1 - lo + k) % n;
            const Slot* sl = slots_[i].get();
            if (sl && (!sl->batches.empty() || sl->done)) {
              idx = i;
              return true;
            }
          }
          return false;
        });
        last = idx;
        Slot* sl = slots_[idx].get();
        if (!sl->batches.empty()) {
          batch = std::move(sl->batches.front());
          sl->batches.pop_front();
          sl->bytes -= batch.bytes;
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
      for (std::size_t i = 0; i < batch.used; ++i) on_event(batch.events[i]);
    }
  }

  void work() {
    ThreadDecoder decoder(opt_);
    for (;;) {
      std::size_t idx;
      Slot* slot;
      {
        std::unique_lock lk(m_);
        cv_work_.wait(lk, [&] { return stop_ || next_ == inputs_.size() || in_flight_ < max_in_flight_; });
        if (stop_ || next_ == inputs_.size()) return;
        idx = next_++;
        ++in_flight_;
        slots_[idx] = std::make_unique<Slot>();
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
      const std::size_t batch_limit = std::max<std::size_t>(opt_.queue_bytes / 4, 1);
      FileOutcome outcome;
      try {
        outcome = decoder.decode(inputs_[idx], opt_, [&](Event& e) {
          batch.bytes += event_bytes(e);
          // Swapped, not copied: the decoder overwrites every field of its event for the next
          // record, into the strings of an event already handed over (their capacity kept).
          if (batch.used == batch.events.size()) batch.events.emplace_back();
          std::swap(batch.events[batch.used], e);
          ++batch.used;
          if (batch.bytes >= batch_limit) push();
        });
        if (batch.used != 0) push();
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
  std::mutex m_;
  std::condition_variable cv_work_;    // workers wait: room in a queue, a slot free, stop
  std::condition_variable cv_caller_;  // the caller waits: events, an input done or started
  std::vector<std::unique_ptr<Slot>> slots_;  // by input index, while in flight
  std::vector<Batch> free_;                   // consumed batches, for the workers to refill
  std::size_t next_ = 0;                      // next input to start
  std::size_t in_flight_ = 0;                 // started, not yet handed over whole
  const std::size_t max_in_flight_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

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
  unsigned threads = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, inputs.size()));
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
  Pool pool(inputs, opt, threads);
  pool.run(on_begin, on_event, on_done);  // an exception ends the pool (its destructor stops it)
}

}  // namespace ctsqs
