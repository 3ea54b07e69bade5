// DirectorySink: one append-only file per tag, bounded buffering, fsync on flush.
#include "ctsqs/sink/directory_sink.hpp"

#include "ctsqs/sink/stdout_sink.hpp"

#include <cerrno>
#include <cstring>

#include <optional>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ctsqs {

namespace {

// The directories of `dir` that do not exist yet, created 0700 (CloudTrail data is not for
// other local users); existing ones keep their permissions.
result<void> create_private_directories(const std::filesystem::path& dir, Diagnostics& diag) {
  std::error_code ignored;
  if (dir.empty() || std::filesystem::is_directory(dir, ignored)) return {};
  if (auto r = create_private_directories(dir.parent_path(), diag); !r) return r;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    const error_code ec(errno, boost::system::generic_category());
    diag.message = "cannot create directory '" + dir.string() + "': " + ec.message();
    return ec;
  }
  return {};
}

// Where the last complete line of the open file `fd` ends (0 when it has none): a write that
// failed half-way leaves a torn line behind it.
std::optional<off_t> end_of_last_line(int fd, off_t size) {
  char buf[4096];
  for (off_t end = size; end > 0;) {
    const off_t start = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    const ssize_t n = ::pread(fd, buf, static_cast<std::size_t>(end - start), start);
    if (n != end - start) return std::nullopt;
    for (ssize_t i = n; i > 0; --i)
      if (buf[i - 1] == '\n') return start + i;
    end = start;
  }
  return 0;
}

// With the file's lock held: cuts a torn last line, returns where the file now ends.
std::optional<off_t> repair_torn_tail(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::nullopt;
  if (st.st_size == 0) return 0;
  char last = 0;
  if (::pread(fd, &last, 1, st.st_size - 1) != 1) return std::nullopt;
  if (last == '\n') return st.st_size;
  const auto end = end_of_last_line(fd, st.st_size);
  if (!end || ::ftruncate(fd, *end) != 0) return std::nullopt;
  return end;
}

// Holds a file's flock for one append: every DirectorySink (of this or another process) takes
// it around a write, a cut and a repair, so none of them sees another's line half-written.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while ((ok_ = ::flock(fd_, LOCK_EX) == 0) == false && errno == EINTR) {
    }
  }
  ~FileLock() {
    if (ok_) ::flock(fd_, LOCK_UN);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const noexcept { return ok_; }
  /// The descriptor is about to be closed, which releases the lock.
  void forget() noexcept { ok_ = false; }

 private:
  int fd_;
  bool ok_ = false;
};

}  // namespace

result<std::unique_ptr<DirectorySink>> DirectorySink::create(DirectorySinkOptions options, Diagnostics& diag) {
  if (auto r = create_private_directories(options.directory, diag); !r) return r.error();
  return std::unique_ptr<DirectorySink>(new DirectorySink(std::move(options)));
}

DirectorySink::DirectorySink(DirectorySinkOptions options) : options_(std::move(options)) {
  if (options_.extension.empty())
    options_.extension = options_.format == OutputFormat::devo ? ".log" : ".jsonl";
}

DirectorySink::~DirectorySink() {
  Diagnostics ignored;
  (void)drain_all(ignored);
  close_all();
}

std::filesystem::path DirectorySink::path_for(std::string_view tag) const {
  std::string name;
  for (char c : tag) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    name.push_back(ok ? c : '_');
  }
  if (name.empty() || name[0] == '.') name.insert(name.begin(), '_');
  return options_.directory / (name + options_.extension);
}

result<void> DirectorySink::drain(const std::string& tag, File& f, Diagnostics& diag) {
  if (f.buffer.empty()) return {};
  auto discard = [&] {
    buffered_ -= f.buffer.size();
    f.buffer.clear();
  };
  if (f.fd < 0) {
    if (auto r = open_file(tag, f, diag); !r) {
      discard();
      return r;
    }
  }
  const auto p = path_for(tag);
  auto fail = [&](std::string what, int err) {
    diag.message = what + " " + p.string() + ": " + std::strerror(err);
    discard();
    return make_error_code(client_errc::sink_failed);
  };
  {
    FileLock lock(f.fd);
    if (!lock.ok()) return fail("lock", errno);
    // A torn last line can only be left by a writer that no longer holds the lock (it died, or
    // its own cut failed): cut it, so no line continues it.
    const auto start = repair_torn_tail(f.fd);
    if (!start) return fail("restore the last complete line of", errno);
    const int err = detail::write_all(f.fd, f.buffer.data(), f.buffer.size());
    if (err != 0) {
      // Cut off what this write appended (the lock kept everyone else out since `start`), so
      // the next line does not continue a torn one. When that fails too, the file is closed
      // and the next writer to take the lock repairs it.
      if (::ftruncate(f.fd, *start) != 0) {
        lock.forget();
        ::close(f.fd);  // releases the lock with the descriptor
        f.fd = -1;
      }
      return fail("write", err);
    }
  }
  discard();
  f.unsynced = true;
  return {};
}

result<void> DirectorySink::open_file(const std::string& tag, File& f, Diagnostics& diag) {
  const auto p = path_for(tag);
  // O_NOFOLLOW: a symbolic link planted under the file's name is refused, not appended through.
  f.fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (f.fd < 0) {
    diag.message = "open " + p.string() + ": " +
                   (errno == ELOOP ? std::string("is a symbolic link, refused") : std::strerror(errno));
    return make_error_code(client_errc::sink_failed);
  }
  dir_unsynced_ = true;
  return {};
}

result<void> DirectorySink::drain_all(Diagnostics& diag) {
  result<void> out;
  for (auto& [tag, f] : files_) {
    if (auto r = drain(tag, f, diag); !r) out = r;
  }
  return out;
}

void DirectorySink::close_all() {
  for (auto& [tag, f] : files_)
    if (f.fd >= 0) ::close(f.fd);
  files_.clear();
  buffered_ = 0;
}

result<DirectorySink::File*> DirectorySink::file_for(std::string_view tag, Diagnostics& diag) {
  auto it = files_.find(tag);
  if (it == files_.end()) {
    if (files_.size() >= options_.max_open_files) {
      if (auto r = flush(diag); !r) return r.error();
      close_all();
    }
    it = files_.emplace(std::string(tag), File{}).first;
  }
  return &it->second;
}

result<void> DirectorySink::write(const Event& event, Diagnostics& diag) {
  auto f = file_for(event.tag, diag);
  if (!f) return f.error();
  std::string& buffer = (*f)->buffer;
  const std::size_t before = buffer.size();
  append_line(buffer, event, options_.format, options_.line);
  buffered_ += buffer.size() - before;
  ++lines_;
  if (buffered_ >= options_.buffer_bytes) return drain_all(diag);
  return {};
}

result<void> DirectorySink::write_lines(std::string_view tag, std::string_view lines, std::uint64_t count,
                                        Diagnostics& diag) {
  auto f = file_for(tag, diag);
  if (!f) return f.error();
  (*f)->buffer.append(lines);
  buffered_ += lines.size();
  lines_ += count;
  if (buffered_ >= options_.buffer_bytes) return drain_all(diag);
  return {};
}

result<void> DirectorySink::flush(Diagnostics& diag) {
  if (auto r = drain_all(diag); !r) return r;
  if (!options_.sync) return {};
  for (auto& [tag, f] : files_) {
    if (f.fd >= 0 && f.unsynced) {
      if (::fsync(f.fd) != 0) {
        diag.message = "fsync " + path_for(tag).string() + ": " + std::strerror(errno);
        return make_error_code(client_errc::sink_failed);
      }
      f.unsynced = false;
    }
  }
  if (dir_unsynced_) {
    // A file created since the last sync survives a crash only once its directory entry does.
    const int dfd = ::open(options_.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) {
      diag.message = "fsync directory " + options_.directory.string() + ": " + std::strerror(errno);
      if (dfd >= 0) ::close(dfd);
      return make_error_code(client_errc::sink_failed);
    }
    ::close(dfd);
    dir_unsynced_ = false;
  }
  return {};
}

}  // namespace ctsqs
