// Outputs: where events go (stdout, a directory, Devo over TLS, Devo HTTP) as the collector file's
// `ctsqs.outputs` and `ctsqs decode --output` name them, and the one place their sinks are built.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/sink/devo_http_sink_options.hpp"
#include "ctsqs/sink/devo_sink_options.hpp"
#include "ctsqs/sink/format.hpp"
#include "ctsqs/sink/sink.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ctsqs {

/// `ctsqs.outputs.stdout`: events to standard output.
struct StdoutOutputConfig {
  OutputFormat format = OutputFormat::flat;  ///< `format`
};

/// `ctsqs.outputs.directory`: one file per tag under `path`.
struct DirectoryOutputConfig {
  std::filesystem::path path;                ///< `path` (required)
  OutputFormat format = OutputFormat::flat;  ///< `format`
};

/// `ctsqs.outputs`: where events go. Several outputs may be set; when none is (and the embedder
/// passes no sink of its own to build_collector()), events go to stdout in `flat` format.
struct OutputsConfig {
  std::optional<StdoutOutputConfig> standard_output;  ///< `stdout`
  std::optional<DirectoryOutputConfig> directory;     ///< `directory`
  std::optional<DevoSinkOptions> devo;                ///< `devo`
  std::optional<DevoHttpSinkOptions> devo_http;       ///< `devo_http`
  /// True when no output is configured (the collector then uses stdout/flat).
  bool empty() const noexcept { return !standard_output && !directory && !devo && !devo_http; }
};

/// One output: a StdoutSink, a DirectorySink, a DevoSink or a DevoHttpSink.
using OutputTarget = std::variant<StdoutOutputConfig, DirectoryOutputConfig, DevoSinkOptions, DevoHttpSinkOptions>;

/// What the outputs built by make_output_sink(s) share.
struct OutputSinkOptions {
  /// Syslog HOSTNAME of devo lines written to stdout or a directory, and the Devo HTTP `<host>`
  /// when its options leave it empty; empty = local_host_name("ctsqs"). A DevoSink keeps its own
  /// `DevoSinkOptions::hostname`.
  std::string hostname;
  /// Where Devo sinks without a `log` of their own report connects and retries.
  std::function<void(std::string_view line)> log;
};

/// One output, built.
struct OutputSink {
  std::unique_ptr<Sink> sink;  ///< never null
  /// The stdout or directory sink's line values: the devo-line time stamp, which a caller may
  /// set before each object (`ctsqs decode` does). Null for the Devo sinks, which stamp their
  /// own time. Valid as long as `sink`.
  LineOptions* line = nullptr;
  bool needs_record = false;   ///< its lines need Event::record (raw, devo, the Devo sinks)
  bool needs_columns = false;  ///< its lines need Event::columns (flat)
};

/// Builds the sink of `target`: StdoutSink on file descriptor 1, DirectorySink::create (the
/// directory created when missing), DevoSink::create (certificates loaded, not connected yet),
/// DevoHttpSink::create. Fails with the sink's own error and `diag.message` (not prefixed: the
/// caller names the setting).
result<OutputSink> make_output_sink(OutputTarget target, const OutputSinkOptions& options, Diagnostics& diag);

/// Every output set in `outputs`, in the order stdout, directory, devo, devo_http; none when it
/// is empty. A failure names the setting: `ctsqs.outputs.<key>: <why>`.
result<std::vector<OutputSink>> make_output_sinks(const OutputsConfig& outputs, const OutputSinkOptions& options,
                                                  Diagnostics& diag);

}  // namespace ctsqs
