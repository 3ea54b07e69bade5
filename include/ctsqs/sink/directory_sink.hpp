// DirectorySink: writes formatted event lines into one file per tag under a directory.
#pragma once

#include "ctsqs/sink/format.hpp"
#include "ctsqs/sink/sink.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace ctsqs {

/// Settings of a DirectorySink.
struct DirectorySinkOptions {
  std::filesystem::path directory;           ///< created (with parents, mode 0700) when missing
  OutputFormat format = OutputFormat::flat;  ///< line format
  LineOptions line;                          ///< devo header values
  /// Total bytes buffered over all files before they are written out (bounds memory).
  std::size_t buffer_bytes = std::size_t{1} << 20;
  /// On `flush`, fsync every file written since the last flush (and the directory when files
  /// were created), so a successful flush survives a crash.
  bool sync = true;
  /// File name suffix; empty = ".jsonl" for flat/raw, ".log" for devo.
  std::string extension;
  /// More tags than this open at once: all files are flushed and closed, then reopened on demand.
  std::size_t max_open_files = 256;
};

/// One append-only file per tag: `<directory>/<tag><extension>` (characters outside
/// `[A-Za-z0-9._-]` in the tag become `_`). Files are opened with O_APPEND, so re-running
/// appends; they are created 0600, and a symbolic link in a file's place is refused (O_NOFOLLOW).
/// Delivery: `flush` succeeds once every earlier line is written (and fsync'ed with `sync`,
/// the directory too when files were created). A failure discards the buffered lines and leaves
/// the sink usable.
///
/// Line integrity: every append holds the file's `flock` (exclusive) from before it looks at the
/// file's end until its write is done or cut, so several sinks, in this process or others (e.g.
/// `ctsqs run` and `ctsqs backfill` on one directory), can append to the same files. A write that
/// fails half-way (ENOSPC, EFBIG) is cut back to where it started, never further: the lines of
/// other writers stay. A torn last line found under the lock (its writer died, or its cut failed)
/// is cut before appending, so no line ever continues a torn one. Other programs that append to
/// these files must take the same lock.
/// A write past a file-size limit (RLIMIT_FSIZE) raises SIGXFSZ, which kills a process by
/// default: ignore or block it in the writing thread (the Collector's sink thread blocks it, the
/// CLI ignores it) so it is an ordinary EFBIG failure. Single-threaded.
class DirectorySink final : public Sink {
 public:
  /// A sink writing under `options.directory`, created (with its missing parents, 0700) when
  /// absent. Fails with the system's error (e.g. `errc::permission_denied`, a file in the way),
  /// `diag.message` naming the directory that could not be created.
  static result<std::unique_ptr<DirectorySink>> create(DirectorySinkOptions options, Diagnostics& diag);
  ~DirectorySink() override;
  DirectorySink(const DirectorySink&) = delete;
  DirectorySink& operator=(const DirectorySink&) = delete;

  /// Buffers the line; writes the files out when `buffer_bytes` are buffered. `diag.message`
  /// names the file and the system's error, e.g. "write /out/x.jsonl: No space left on device".
  result<void> write(const Event& event, Diagnostics& diag) override;
  /// Lines already formatted in this sink's format (`count` of them, each ending in '\n') for
  /// the file of `tag`, as `count` calls of write() with events of that tag would have made
  /// them: how lines formatted on other threads are written (`ctsqs decode`). Failures as write().
  result<void> write_lines(std::string_view tag, std::string_view lines, std::uint64_t count, Diagnostics& diag);
  /// Writes every file out and fsyncs them (with `sync`); `diag.message` names the file or
  /// directory that failed.
  result<void> flush(Diagnostics& diag) override;
  using Sink::flush;  // the deprecated forms, for one release
  using Sink::write;

  /// Header values for the next lines.
  LineOptions& line_options() noexcept { return options_.line; }
  /// The file events with tag `tag` go to.
  std::filesystem::path path_for(std::string_view tag) const;
  std::uint64_t lines_written() const noexcept { return lines_; }

 private:
  explicit DirectorySink(DirectorySinkOptions options);
  struct File {
    int fd = -1;
    std::string buffer;
    bool unsynced = false;
  };
  result<File*> file_for(std::string_view tag, Diagnostics& diag);
  result<void> drain(const std::string& tag, File& f, Diagnostics& diag);
  result<void> open_file(const std::string& tag, File& f, Diagnostics& diag);
  result<void> drain_all(Diagnostics& diag);
  void close_all();

  DirectorySinkOptions options_;
  std::map<std::string, File, std::less<>> files_;
  std::size_t buffered_ = 0;
  bool dir_unsynced_ = false;
  std::string line_;
  std::uint64_t lines_ = 0;
};

}  // namespace ctsqs
