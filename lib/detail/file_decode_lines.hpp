// decode_files_to_lines: decode_files (ctsqs/decode/file_decode.hpp) whose workers also route and
// format, so that what crosses to the caller's thread is finished bytes, not events. What
// `ctsqs decode` runs for its stdout and directory outputs.
//
// Why: handing events over costs the second core more than decoding them does. Measured
// (docs/benchmarks.md): a 2-thread decode that handed Events to the caller spent 29% more CPU
// than one thread; one whose workers dropped their events spent none more. A handed-over event
// is written by one core and read by another, and the batches in flight are a working set of
// megabytes of strings; a worker that formats reuses one hot Event and appends to one buffer.
#pragma once

#include "ctsqs/decode/file_decode.hpp"

#include "string_hash.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ctsqs::detail {

/// Lines formatted on a decoding thread, from some consecutive events of one input: one run of
/// bytes per destination (a tag for an output with a file per tag; "" for one stream), each in
/// event order. Reused batch after batch: parts keep their key and capacity.
struct LineBatch {
  struct Part {
    std::string key;
    std::string bytes;  ///< whole lines, each ending in '\n'
    std::uint64_t lines = 0;
  };
  std::vector<Part> parts;  ///< parts with `lines == 0` are empty
  std::size_t bytes = 0;    ///< over all parts
  std::uint64_t lines = 0;  ///< over all parts

  /// The part of `key`, made on first use.
  Part& part(std::string_view key) {
    if (auto it = index_.find(key); it != index_.end()) return parts[it->second];
    index_.emplace(std::string(key), parts.size());
    parts.push_back(Part{std::string(key), {}, 0});
    return parts.back();
  }
  /// Empties every part, keeping keys and capacity.
  void reset() {
    for (auto& p : parts) {
      p.bytes.clear();
      p.lines = 0;
    }
    bytes = 0;
    lines = 0;
  }

 private:
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> index_;
};

/// Turns one decoding thread's events into lines. One per thread: all its calls come from that
/// thread.
class LineFormatter {
 public:
  virtual ~LineFormatter() = default;
  /// An input starts on this thread.
  virtual void begin(const FileInput& in) { (void)in; }
  /// Appends the line of `e` to `out` (updating its `bytes` and `lines`), or drops it.
  virtual void format(Event& e, LineBatch& out) = 0;
};

/// As decode_files, but each decoding thread passes its events to its own LineFormatter, from
/// `formatter_for_thread` (called once per decoding thread, on that thread; the formatter must
/// outlive this call), and the lines go to `on_lines` in batches of about `opt.queue_bytes / 4`
/// bytes, each input's batches in order, between its `on_begin` and `on_done`.
/// - `opt.ordered`: inputs whole and in order; the callbacks run on the caller's thread, the
///   workers hand their batches over.
/// - else: inputs interleave; every decoding thread (the caller's among them) runs the callbacks
///   for its own inputs itself, one thread at a time under one lock.
/// An exception from a callback stops every thread and is rethrown once they have all ended.
void decode_files_to_lines(const std::vector<FileInput>& inputs, const FileDecodeOptions& opt,
                           const std::function<LineFormatter*()>& formatter_for_thread,
                           const std::function<void(const FileInput&)>& on_begin,
                           const std::function<void(const FileInput&, LineBatch&)>& on_lines,
                           const std::function<void(const FileInput&, FileOutcome&)>& on_done);

}  // namespace ctsqs::detail
