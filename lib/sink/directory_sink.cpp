// DirectorySink: one append-only file per tag, bounded buffering, fsync on flush.
#include "ctsqs/sink/directory_sink.hpp"

#include "ctsqs/sink/stdout_sink.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace ctsqs {

DirectorySink::DirectorySink(DirectorySinkOptions options) : options_(std::move(options)) {
  if (options_.extension.empty())
    options_.extension = options_.format == OutputFormat::devo ? ".log" : ".jsonl";
  std::filesystem::create_directories(options_.directory);
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
    const auto p = path_for(tag);
    f.fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (f.fd < 0) {
      last_error_ = "open " + p.string() + ": " + std::strerror(errno);
      buffered_ -= f.buffer.size();
      f.buffer.clear();
      return make_error_code(client_errc::sink_failed);
    }
    dir_unsynced_ = true;
  }
  const int err = detail::write_all(f.fd, f.buffer.data(), f.buffer.size());
  buffered_ -= f.buffer.size();
  f.buffer.clear();
  if (err != 0) {
    last_error_ = "write " + path_for(tag).string() + ": " + std::strerror(err);
    return make_error_code(client_errc::sink_failed);
  }
  f.unsynced = true;
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
    const int dfd = ::open(options_.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    dir_unsynced_ = false;
  }
  return {};
}

}  // namespace ctsqs
