// make_output_sink(s) (include/ctsqs/sink/outputs.hpp): the sinks of the collector file's outputs
// and of `ctsqs decode --output`, built in one place.
#include "ctsqs/sink/outputs.hpp"

#include "ctsqs/sink/devo_http_sink.hpp"
#include "ctsqs/sink/devo_sink.hpp"
#include "ctsqs/sink/directory_sink.hpp"
#include "ctsqs/sink/stdout_sink.hpp"

#include "../detail/output_lines.hpp"

#include <chrono>
#include <utility>

namespace ctsqs {

namespace {

LineOptions line_for(const OutputSinkOptions& options) {
  LineOptions line;
  line.hostname = options.hostname.empty() ? local_host_name("ctsqs") : options.hostname;
  line.time = std::chrono::system_clock::now();
  return line;
}

}  // namespace

result<OutputSink> make_output_sink(OutputTarget target, const OutputSinkOptions& options, Diagnostics& diag) {
  OutputSink out;
  if (auto* so = std::get_if<StdoutOutputConfig>(&target)) {
    StdoutSinkOptions o;
    o.format = so->format;
    o.line = line_for(options);
    auto sink = std::make_unique<StdoutSink>(1, std::move(o));
    out.line = &sink->line_options();
    out.needs_record = needs_record(so->format);
    out.needs_columns = needs_columns(so->format);
    out.sink = std::move(sink);
  } else if (auto* dir = std::get_if<DirectoryOutputConfig>(&target)) {
    DirectorySinkOptions o;
    o.directory = dir->path;
    o.format = dir->format;
    o.line = line_for(options);
    auto sink = DirectorySink::create(std::move(o), diag);
    if (!sink) return sink.error();
    out.line = &(*sink)->line_options();
    out.needs_record = needs_record(dir->format);
    out.needs_columns = needs_columns(dir->format);
    out.sink = std::move(*sink);
  } else if (auto* devo = std::get_if<DevoSinkOptions>(&target)) {
    if (!devo->log) devo->log = options.log;
    auto sink = DevoSink::create(std::move(*devo), diag);
    if (!sink) return sink.error();
    out.needs_record = true;
    out.sink = std::move(*sink);
  } else {
    auto& http = std::get<DevoHttpSinkOptions>(target);
    if (!http.log) http.log = options.log;
    if (http.hostname.empty()) http.hostname = line_for(options).hostname;
    auto sink = DevoHttpSink::create(std::move(http), diag);
    if (!sink) return sink.error();
    out.needs_record = true;
    out.sink = std::move(*sink);
  }
  return out;
}

result<std::vector<OutputSink>> make_output_sinks(const OutputsConfig& outputs, const OutputSinkOptions& options,
                                                  Diagnostics& diag) {
  std::vector<OutputSink> sinks;
  auto add = [&](OutputTarget target, std::string_view key) -> result<void> {
    auto made = make_output_sink(std::move(target), options, diag);
    if (!made) {
      diag.message = "ctsqs.outputs." + std::string(key) + ": " + diag.message;
      return made.error();
    }
    sinks.push_back(std::move(*made));
    return {};
  };
  if (outputs.standard_output)
    if (auto r = add(*outputs.standard_output, "stdout"); !r) return r.error();
  if (outputs.directory)
    if (auto r = add(*outputs.directory, "directory"); !r) return r.error();
  if (outputs.devo)
    if (auto r = add(*outputs.devo, "devo"); !r) return r.error();
  if (outputs.devo_http)
    if (auto r = add(*outputs.devo_http, "devo_http"); !r) return r.error();
  return sinks;
}

}  // namespace ctsqs

namespace ctsqs::detail {

bool takes_lines(const Sink& sink, bool* per_tag) noexcept {
  const bool directory = dynamic_cast<const DirectorySink*>(&sink) != nullptr;
  if (per_tag) *per_tag = directory;
  return directory || dynamic_cast<const StdoutSink*>(&sink) != nullptr;
}

result<void> write_lines_to(Sink& sink, const LineBatch& lines, Diagnostics& diag) {
  auto* out = dynamic_cast<StdoutSink*>(&sink);
  auto* dir = out ? nullptr : dynamic_cast<DirectorySink*>(&sink);
  if (!out && !dir) {
    diag.message = "this output does not take formatted lines";
    return make_error_code(client_errc::invalid_argument);
  }
  for (const auto& part : lines.parts) {
    if (part.lines == 0) continue;
    auto w = out ? out->write_lines(part.bytes, part.lines, diag) : dir->write_lines(part.key, part.bytes, part.lines, diag);
    if (!w) return w;
  }
  return {};
}

}  // namespace ctsqs::detail
