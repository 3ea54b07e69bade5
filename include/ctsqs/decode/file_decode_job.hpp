// FileDecodeJob: local files of a service decoded, tagged, filtered and written to an output or a
// sink of the caller's, with a summary: what `ctsqs decode` runs, for any handler of a registry.
#pragma once

#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/sink/format.hpp"
#include "ctsqs/sink/sink.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ctsqs {

/// Where a FileDecodeJob stands, handed to FileDecodeJobOptions::on_progress.
struct FileDecodeProgress {
  std::uint64_t objects_done = 0;   ///< inputs finished
  std::size_t objects_total = 0;    ///< inputs found
  std::uint64_t events = 0;         ///< events written so far
};

/// Settings of a FileDecodeJob. Error messages name the settings by their `ctsqs decode` flags
/// (`--service`, `--routing-template`, `--output`, ...).
struct FileDecodeJobOptions {
  /// The service whose files these are: a name or alias in the registry given to create()
  /// (`aws_sqs_cloudtrail`, `guardduty`, or a handler of your own).
  std::string service = "aws_sqs_cloudtrail";
  /// Keep only the events of these AWS services (`s3`, `iam`, `s3.amazonaws.com`, ...); empty =
  /// every event. Others are dropped and counted (FileDecodeSummary::filtered).
  std::vector<std::string> aws_services;
  /// Tag template (`{service}`, `{account}`, `{region}`); empty = the handler's default.
  std::string routing_template;
  /// Line format of the stdout and directory outputs; a devo:// output always writes devo
  /// lines, and a sink of the caller's gets events with both record and columns.
  OutputFormat format = OutputFormat::flat;
  /// "-" = standard output; "devo://HOST:PORT" = Devo over TLS (`devo_cert`, `devo_key`,
  /// `devo_chain`) or a relay (`devo_tls` false); anything else = a directory, one file per tag
  /// (created when missing). Unused with a sink of the caller's.
  std::string output = "-";
  std::string devo_cert;   ///< devo://: the Devo domain's client certificate (PEM)
  std::string devo_key;    ///< devo://: its private key (PEM, unencrypted)
  std::string devo_chain;  ///< devo://: CA chain to verify the receiver; empty = system store
  bool devo_tls = true;    ///< devo://: false = plain TCP to a relay
  /// Syslog HOSTNAME of devo lines; empty = local_host_name(). Must not contain whitespace.
  std::string hostname;
  /// An object whose uncompressed size exceeds this is bad (gzip bombs).
  std::uint64_t max_object_bytes = DecoderOptions{}.max_object_bytes;
  /// A record larger than this makes its object bad.
  std::size_t max_record_bytes = DecoderOptions{}.max_record_bytes;
  /// Files, directories (searched recursively for the service's files, see
  /// collect_file_inputs) or "-" for standard input.
  std::vector<std::string> paths;
  unsigned threads = 0;  ///< decoding threads; 0 = the machine's cores (FileDecodeOptions::threads)
  bool ordered = false;  ///< inputs written in the order given, each whole (FileDecodeOptions::ordered)
  /// Called as each input starts and every 16384 events written, one call at a time: on run()'s
  /// thread, or on a decoding thread with the stdout and directory outputs unordered (see
  /// FileDecodeJob).
  std::function<void(const FileDecodeProgress&)> on_progress;
};

/// What a FileDecodeJob did.
struct FileDecodeSummary {
  std::uint64_t objects = 0;  ///< inputs handled (decoded + skipped + bad)
  std::uint64_t decoded = 0;  ///< inputs decoded whole (empty ones included)
  std::uint64_t events = 0;   ///< events written
  /// Events written per tag, ordered by tag.
  std::map<std::string, std::uint64_t, std::less<>> events_per_tag;
  std::uint64_t filtered = 0;  ///< events dropped by FileDecodeJobOptions::aws_services
  /// Inputs skipped on purpose, in input order: "<name> (<reason>)", e.g. "... (digest)".
  std::vector<std::string> skipped;
  /// Inputs that were bad, in input order: the whole message (names the file, what was wrong,
  /// how many of its events were already written). The good inputs were still written whole.
  std::vector<std::string> bad;
};

/// Decodes local files (and standard input) of one service into tagged events written to an
/// output (stdout, a directory, Devo; built by make_output_sink, as the collector builds its
/// outputs) or to a Sink of the caller's.
///
/// The service comes from a ServiceHandlerRegistry: the built-in handlers decode with a
/// CloudTrailDecoder of their RecordLayout and a TagRouter; any other handler (one without a
/// record layout) decodes with its own PayloadDecoder, one per decoding thread.
/// With the stdout and directory outputs (not `ordered`), each decoding thread also routes and
/// formats its events and writes its lines itself, one thread at a time (no event crosses
/// threads: measured in docs/benchmarks.md); under `ordered`, with a Devo output or a sink of the
/// caller's, the events are handed to run()'s thread, which routes and writes them in order. Each input is flushed to the sink after its last
/// event (under `ordered`, before the next input starts).
///
/// Usage: `auto job = FileDecodeJob::create(options, registry, diag); job->run(diag);`. Not
/// thread-safe; run() once.
class FileDecodeJob {
 public:
  /// Checks the options, finds the handler, builds the decoder settings and the output of
  /// `options.output`. Fails (`invalid_argument`, or the sink's error such as
  /// `errc::permission_denied` for a directory) with `diag.message` naming the setting. Only
  /// `registry`'s handler is kept: the registry need not outlive the job.
  static result<FileDecodeJob> create(FileDecodeJobOptions options, const ServiceHandlerRegistry& registry,
                                      Diagnostics& diag);
  /// As above, writing to `sink` (not owned; must outlive run()) instead of an output.
  static result<FileDecodeJob> create(FileDecodeJobOptions options, const ServiceHandlerRegistry& registry,
                                      Sink& sink, Diagnostics& diag);

  FileDecodeJob(FileDecodeJob&&) noexcept;
  FileDecodeJob& operator=(FileDecodeJob&&) noexcept;
  ~FileDecodeJob();

  /// Decodes every input of `options.paths`. Bad inputs do not fail the run: they are listed in
  /// FileDecodeSummary::bad while the others are written. Fails only when the output does (a
  /// devo:// receiver that refuses the connection at the start, a write or flush that fails),
  /// with the sink's error and `diag.message` saying why; what was flushed before stays written.
  result<FileDecodeSummary> run(Diagnostics& diag);

 private:
  struct Impl;
  explicit FileDecodeJob(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctsqs
