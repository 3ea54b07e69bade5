// Decoding local files (and stdin) of a service on a pool of worker threads: what `ctsqs decode`
// runs. Events reach the caller's thread in order per file; under `ordered`, in input order.
#pragma once

#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/event.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ctsqs {

/// One input: a file, or stdin ("-").
struct FileInput {
  std::string name;          ///< the path as given or found; "-" for stdin
  bool stdin_input = false;  ///< read file descriptor 0
  std::string open_error;    ///< set when the path could not be found or listed
};

/// The inputs named by `paths`: files as they are, directories searched recursively for the
/// files of `layout` (CloudTrail *.json(.gz), GuardDuty *.jsonl(.gz), Firehose every file not
/// starting with '.'), sorted; "-" is stdin. A path that cannot be listed gets `open_error`.
std::vector<FileInput> collect_file_inputs(const std::vector<std::string>& paths, RecordLayout layout);

/// As above; without a layout (a service whose handler decodes by itself, see
/// ServiceHandler::record_layout), directories give every file not starting with '.'.
std::vector<FileInput> collect_file_inputs(const std::vector<std::string>& paths,
                                           std::optional<RecordLayout> layout);

/// Settings of `decode_files`.
struct FileDecodeOptions {
  DecoderOptions decoder;       ///< for every input
  /// When set, each worker decodes with a PayloadDecoder made by this (a service handler's,
  /// ServiceHandler::make_payload_decoder) instead of a CloudTrailDecoder built from `decoder`:
  /// the events come tagged and filtered by the service. Called once per decoding thread, on
  /// that thread (so from several threads at once); must not return null.
  std::function<std::unique_ptr<PayloadDecoder>()> make_decoder;
  unsigned threads = 0;         ///< worker threads; 0 = the machine's cores; 1 = the caller's thread only
  /// Events in input order, each input whole before the next. Else the inputs' events
  /// interleave (in batches of about queue_bytes / 4), each input's in order: no worker waits
  /// for another input to be written, where under `ordered` one waits once it holds queue_bytes.
  bool ordered = false;
  /// Events of one file waiting for the caller are held up to about this many bytes (record +
  /// columns); its worker waits beyond. Memory: about (threads + 2) times this, plus each
  /// worker's decoder and read buffer.
  std::size_t queue_bytes = std::size_t{1} << 20;
  std::size_t whole_read_limit = std::size_t{8} << 20;  ///< files up to this are read whole
  std::size_t chunk_bytes = std::size_t{1} << 20;       ///< larger ones and stdin in such chunks
};

/// What became of one input, given after its last event.
struct FileOutcome {
  result<ObjectSummary> summary = make_error_code(client_errc::io_error);
  /// When it failed: the whole message (names the file, says what was wrong and how many
  /// events were already emitted).
  std::string message;
  /// Events of this input dropped by the service filter of a `make_decoder` decoder
  /// (PayloadDecoder::filtered); 0 with a CloudTrailDecoder, which filters nothing.
  std::uint64_t filtered = 0;
};

/// Decodes `inputs` on `opt.threads` workers. `on_begin`, `on_event` and `on_done` run on the
/// caller's thread: for each input its `on_begin` (may be empty), every event in order, then its
/// `on_done`; inputs interleave unless `opt.ordered` (or one thread). An exception from a
/// callback stops the workers and is
/// rethrown once they have ended. The FileInput given to the callbacks is the element of
/// `inputs`.
void decode_files(const std::vector<FileInput>& inputs, const FileDecodeOptions& opt,
                  const std::function<void(const FileInput&)>& on_begin,
                  const std::function<void(Event&)>& on_event,
                  const std::function<void(const FileInput&, FileOutcome&)>& on_done);

}  // namespace ctsqs
