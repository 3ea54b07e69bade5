// DirectorySink: one append-only file per tag, bounded buffering, fsync on flush.
#include "ctsqs/sink/directory_sink.hpp"

#include "ctsqs/sink/stdout_sink.hpp"

#include <cerrno>
#include <cstring>

#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ctsqs {

namespace {

// The directories of `dir` that do not exist yet, created 0700 (CloudTrail data is not for
// other local users); existing ones keep their permissions.
void create_private_directories(const std::filesystem::path& dir) {
  if (dir.empty() || std::filesystem::is_directory(dir)) return;
  create_private_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::filesystem::filesystem_error("create directory", dir, std::error_code(errno, std::generic_category()));
}

// Where the last complete line of the open file `fd` ends (0 when it has none): a write that
// failed half-way leaves a torn line behind it.
std::optional<off_t> end_of_last_line(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::nullopt;
  char buf[4096];
  for (off_t end = st.st_size; end > 0;) {
    const off_t start = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    const ssize_t n = ::pread(fd, buf, static_cast<std::size_t>(end - start), start);
    if (n != end - start) return std::nullopt;
    for (ssize_t i = n; i > 0; --i)
      if (buf[i - 1] == '\n') return start + i;
    end = start;
  }
  return 0;
}

}  // namespace

DirectorySink::DirectorySink(DirectorySinkOptions options) : options_(std::move(options)) {
  if (options_.extension.empty())
    options_.extension = options_.format == OutputFormat::devo ? ".log" : ".jsonl";
  create_private_directories(options_.directory);
}

DirectorySink::~DirectorySink() {
  (void)drain_all();
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

result<void> DirectorySink::drain(const std::string& tag, File& f) {
  if (f.buffer.empty()) return {};
  if (f.fd < 0) {
    if (auto r = open_file(tag, f); !r) {
      buffered_ -= f.buffer.size();
      f.buffer.clear();
      return r;
    }
  }
  const int err = detail::write_all(f.fd, f.buffer.data(), f.buffer.size());
  buffered_ -= f.buffer.size();
  f.buffer.clear();
  if (err != 0) {
    last_error_ = "write " + path_for(tag).string() + ": " + std::strerror(err);
    // Cut off the part that was written, so the next line does not continue a torn one. When
    // that fails too, the file is closed and repaired when it is opened again.
    if (::ftruncate(f.fd, f.size) != 0) {
      ::close(f.fd);
      f.fd = -1;
    }
    return make_error_code(client_errc::sink_failed);
  }
  struct stat st {};
  f.size = ::fstat(f.fd, &st) == 0 ? st.st_size : f.size;
  f.unsynced = true;
  return {};
}

result<void> DirectorySink::open_file(const std::string& tag, File& f) {
  const auto p = path_for(tag);
  // O_NOFOLLOW: a symbolic link planted under the file's name is refused, not appended through.
  f.fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (f.fd < 0) {
    last_error_ = "open " + p.string() + ": " +
                  (errno == ELOOP ? std::string("is a symbolic link, refused") : std::strerror(errno));
    return make_error_code(client_errc::sink_failed);
  }
  // A file left with a torn last line (a write that failed before this process, or one whose
  // truncation failed) is cut back to its last complete line.
  const auto end = end_of_last_line(f.fd);
  struct stat st {};
  if (!end || ::fstat(f.fd, &st) != 0 || (*end < st.st_size && ::ftruncate(f.fd, *end) != 0)) {
    last_error_ = "open " + p.string() + ": cannot restore its last complete line: " + std::strerror(errno);
    ::close(f.fd);
    f.fd = -1;
    return make_error_code(client_errc::sink_failed);
  }
  f.size = *end;
  dir_unsynced_ = true;
  return {};
}

result<void> DirectorySink::drain_all() {
  result<void> out;
  for (auto& [tag, f] : files_) {
    if (auto r = drain(tag, f); !r) out = r;
  }
  return out;
}

void DirectorySink::close_all() {
  for (auto& [tag, f] : files_)
    if (f.fd >= 0) ::close(f.fd);
  files_.clear();
  buffered_ = 0;
}

result<void> DirectorySink::write(const Event& event) {
  auto it = files_.find(std::string_view(event.tag));
  if (it == files_.end()) {
    if (files_.size() >= options_.max_open_files) {
      if (auto r = flush(); !r) return r;
      close_all();
    }
    it = files_.emplace(event.tag, File{}).first;
  }
  const std::size_t before = it->second.buffer.size();
  append_line(it->second.buffer, event, options_.format, options_.line);
  buffered_ += it->second.buffer.size() - before;
  ++lines_;
  if (buffered_ >= options_.buffer_bytes) return drain_all();
  return {};
}

result<void> DirectorySink::flush() {
  if (auto r = drain_all(); !r) return r;
  if (!options_.sync) return {};
  for (auto& [tag, f] : files_) {
    if (f.fd >= 0 && f.unsynced) {
      if (::fsync(f.fd) != 0) {
        last_error_ = "fsync " + path_for(tag).string() + ": " + std::strerror(errno);
        return make_error_code(client_errc::sink_failed);
      }
      f.unsynced = false;
    }
  }
  if (dir_unsynced_) {
    // A file created since the last sync survives a crash only once its directory entry does.
    const int dfd = ::open(options_.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) {
      last_error_ = "fsync directory " + options_.directory.string() + ": " + std::strerror(errno);
      if (dfd >= 0) ::close(dfd);
      return make_error_code(client_errc::sink_failed);
    }
    ::close(dfd);
    dir_unsynced_ = false;
  }
  return {};
}

}  // namespace ctsqs
