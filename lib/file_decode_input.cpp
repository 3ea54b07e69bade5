// One input through one thread's decoder (detail/thread_decoder.hpp), and the inputs that paths
// name (collect_file_inputs, include/ctsqs/decode/file_decode.hpp). The threads that run them:
// file_decode.cpp.
#include "ctsqs/decode/file_decode.hpp"

#include "detail/gzip_inflate.hpp"
#include "detail/thread_decoder.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

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

}  // namespace

namespace detail {

ThreadDecoder::ThreadDecoder(const FileDecodeOptions& opt) {
  if (opt.make_decoder)
    payload_ = opt.make_decoder();
  else
    trail_.emplace(stream_options(opt.decoder));
}

FileOutcome ThreadDecoder::decode(const FileInput& in, const FileDecodeOptions& opt, EventHandler handler) {
  if (trail_) return decode_one(*trail_, in, buf_, opt, handler);
  if (payload_) return decode_one_payload(*payload_, in, buf_, events_, opt, handler);
  FileOutcome out;
  out.message = in.name + ": FileDecodeOptions::make_decoder gave no decoder";
  return out;
}

}  // namespace detail

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

}  // namespace ctsqs
