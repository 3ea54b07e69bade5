// FileDecodeJob (include/ctsqs/decode/file_decode_job.hpp): the handler, decoder settings, router
// and output of `ctsqs decode`, run over decode_files with a summary.
#include "ctsqs/decode/file_decode_job.hpp"

#include "ctsqs/decode/file_decode.hpp"
#include "ctsqs/decode/tag_router.hpp"
#include "ctsqs/sink/devo_sink.hpp"
#include "ctsqs/sink/outputs.hpp"

#include "detail/failed_decoder.hpp"
#include "detail/file_decode_lines.hpp"
#include "detail/output_lines.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace ctsqs {

namespace {

error_code usage(Diagnostics& diag, std::string message) {
  diag.message = std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

// Thrown from the event callbacks when the sink fails: the output is broken, stop everything.
struct OutputFailed {
  error_code ec;
  std::string message;
};

// A decoding thread's router and line formatting, for the stdout and directory outputs: what the
// caller's thread would do per event, done where the event was decoded.
class JobFormatter final : public detail::LineFormatter {
 public:
  JobFormatter(const std::optional<TagRouter>& router, OutputFormat format, const LineOptions& line, bool per_tag)
      : router_(router), lines_(format, line, per_tag) {}
  void begin(const FileInput&) override { lines_.line_options().time = std::chrono::system_clock::now(); }
  void format(Event& e, detail::LineBatch& out) override {
    if (router_) {
      if (!router_->route(e)) return;
    } else {
      ++tags_[e.tag];  // a handler's decoder tagged and filtered it
    }
    lines_.format(e, out);
  }
  // Its counts, added to `summary` once the decode is over.
  void add_counts(FileDecodeSummary& summary) const {
    if (router_) {
      for (const auto& [tag, n] : router_->counts()) summary.events_per_tag[tag] += n;
      summary.filtered += router_->filtered();
    }
    for (const auto& [tag, n] : tags_) summary.events_per_tag[tag] += n;
  }

 private:
  std::optional<TagRouter> router_;  // a copy of the job's; none for a handler's own decoder
  detail::OutputLineFormatter lines_;
  std::unordered_map<std::string, std::uint64_t> tags_;
};

}  // namespace

struct FileDecodeJob::Impl {
  FileDecodeJobOptions options;
  std::shared_ptr<const ServiceHandler> handler;
  ServiceSettings settings;
  DecoderOptions decoder;
  std::optional<TagRouter> router;  // handlers with a record layout: tagging on run()'s thread
  OutputFormat line_format = OutputFormat::flat;  // of the stdout and directory outputs
  OutputSink output;                // when no sink of the caller's
  Sink* sink = nullptr;

  result<void> prepare(const ServiceHandlerRegistry& registry, OutputFormat format, bool own_sink, Diagnostics& diag);
};

FileDecodeJob::FileDecodeJob(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FileDecodeJob::FileDecodeJob(FileDecodeJob&&) noexcept = default;
FileDecodeJob& FileDecodeJob::operator=(FileDecodeJob&&) noexcept = default;
FileDecodeJob::~FileDecodeJob() = default;

// Everything but the output: handler, settings, decoder options, router.
result<void> FileDecodeJob::Impl::prepare(const ServiceHandlerRegistry& registry, OutputFormat format, bool own_sink,
                                          Diagnostics& diag) {
  Impl& job = *this;
  const FileDecodeJobOptions& o = job.options;
  job.handler = registry.find(o.service);
  if (!job.handler)
    return usage(diag, "--service: unknown service \"" + o.service + "\"; known services: " + registry.describe_known());
  ServiceSettings& s = job.settings;
  s.name = std::string(job.handler->name());
  s.configured_name = o.service;
  s.routing_template =
      o.routing_template.empty() ? std::string(job.handler->default_routing_template()) : o.routing_template;
  for (const auto& v : o.aws_services) s.aws_services.push_back(normalize_service(v));
  if (auto c = job.handler->check(s, "--service " + s.name, diag); !c) return c.error();

  DecoderOptions& dopt = job.decoder;
  if (auto layout = job.handler->record_layout()) dopt.layout = *layout;
  dopt.build_record = own_sink || needs_record(format);
  dopt.build_columns = own_sink || needs_columns(format);
  dopt.max_object_bytes = o.max_object_bytes;
  dopt.max_record_bytes = o.max_record_bytes;
  if (auto v = validate(dopt, diag); !v) return v.error();
  if (job.handler->record_layout()) {
    Diagnostics router_diag;
    auto made = TagRouter::create(to_tag_router_options(s), router_diag);
    if (!made) return usage(diag, "--routing-template/--services: " + router_diag.message);
    job.router.emplace(std::move(*made));
  } else if (auto first = job.handler->make_payload_decoder(s, dopt, diag); !first) {
    // A handler of its own decodes by itself: fail here, not on the first file.
    return first.error();
  }
  return {};
}

result<FileDecodeJob> FileDecodeJob::create(FileDecodeJobOptions options, const ServiceHandlerRegistry& registry,
                                            Diagnostics& diag) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const FileDecodeJobOptions& o = impl->options;
  const bool to_devo = o.output.rfind("devo://", 0) == 0;
  // The Devo sink always writes devo lines.
  const OutputFormat format = to_devo ? OutputFormat::devo : o.format;
  if (auto p = impl->prepare(registry, format, false, diag); !p) return p.error();

  const std::string hostname = o.hostname.empty() ? local_host_name() : o.hostname;
  if (hostname.find_first_of(" \t\r\n") != std::string::npos)
    return usage(diag, "--hostname must not contain whitespace");
  OutputSinkOptions so;
  so.hostname = hostname;
  if (to_devo) {
    DevoSinkOptions devo;
    Diagnostics d;
    if (!parse_devo_url(o.output, devo, d)) return usage(diag, "--output: " + d.message);
    devo.tls = o.devo_tls;
    if (devo.tls && (o.devo_cert.empty() || o.devo_key.empty()))
      return usage(diag, "--output devo://: --devo-cert and --devo-key are required (or --devo-no-tls for a relay)");
    devo.cert_file = o.devo_cert;
    devo.key_file = o.devo_key;
    devo.chain_file = o.devo_chain;
    devo.hostname = hostname;
    auto made = make_output_sink(std::move(devo), so, d);
    if (!made) {
      diag.message = "--output " + o.output + ": " + d.message;
      return made.error();
    }
    impl->output = std::move(*made);
  } else if (o.output == "-") {
    impl->line_format = format;
    Diagnostics d;
    auto made = make_output_sink(StdoutOutputConfig{format}, so, d);
    if (!made) {
      diag.message = "--output -: " + d.message;
      return made.error();
    }
    impl->output = std::move(*made);
  } else {
    impl->line_format = format;
    Diagnostics d;
    auto made = make_output_sink(DirectoryOutputConfig{o.output, format}, so, d);
    if (!made) {
      diag.message = "--output " + o.output + ": " + made.error().message();
      return made.error();
    }
    impl->output = std::move(*made);
  }
  impl->sink = impl->output.sink.get();
  return FileDecodeJob(std::move(impl));
}

result<FileDecodeJob> FileDecodeJob::create(FileDecodeJobOptions options, const ServiceHandlerRegistry& registry,
                                            Sink& sink, Diagnostics& diag) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (auto p = impl->prepare(registry, impl->options.format, true, diag); !p) return p.error();
  impl->sink = &sink;
  return FileDecodeJob(std::move(impl));
}

result<FileDecodeSummary> FileDecodeJob::run(Diagnostics& diag) {
  Impl& job = *impl_;
  Sink& sink = *job.sink;
  // Fail at start on a wrong address or a certificate the receiver refuses.
  if (auto* devo = dynamic_cast<DevoSink*>(job.output.sink.get()))
    if (auto c = devo->connect(diag); !c) return c.error();

  const std::vector<FileInput> inputs =
      collect_file_inputs(job.options.paths, job.handler->record_layout());
  FileDecodeOptions fopt;
  fopt.decoder = job.decoder;
  fopt.threads = job.options.threads;
  fopt.ordered = job.options.ordered;
  if (!job.router)
    fopt.make_decoder = [handler = job.handler, settings = job.settings, limits = job.decoder] {
      Diagnostics why;
      return detail::decoder_or_failure(handler->make_payload_decoder(settings, limits, why), why);
    };

  FileDecodeSummary summary;
  FileDecodeProgress progress;
  progress.objects_total = inputs.size();
  const auto& on_progress = job.options.on_progress;
  // (input index, text): listed in input order, however the workers finished.
  std::vector<std::pair<std::size_t, std::string>> skipped, bad;

  // The stdout and directory outputs take lines routed and formatted on the decoding threads,
  // unordered; under `ordered` (the tag limits then admit tags in input order, as one thread
  // does), a Devo output or a sink of the caller's take events, routed on this thread.
  bool per_tag = false;
  const bool lines = !job.options.ordered && job.output.sink && detail::takes_lines(*job.output.sink, &per_tag);
  // Each formatter stamps its own devo-line time per input; the sink's is stamped here for events.
  const LineOptions line_values = job.output.line ? *job.output.line : LineOptions{};
  auto on_begin = [&](const FileInput&) {
    if (on_progress) on_progress(progress);
    if (job.output.line && !lines) job.output.line->time = std::chrono::system_clock::now();
  };
  Diagnostics sink_diag;
  auto write = [&](const Event& e) {
    if (auto w = sink.write(e, sink_diag); !w) throw OutputFailed{w.error(), sink_diag.message};
    if ((++progress.events & 0x3fff) == 0 && on_progress) on_progress(progress);
  };
  auto on_event = [&](Event& e) {
    if (job.router) {
      if (job.router->route(e)) write(e);
    } else {
      write(e);
      ++summary.events_per_tag[e.tag];
    }
  };
  auto on_done = [&](const FileInput& in, FileOutcome& o) {
    ++progress.objects_done;
    summary.filtered += o.filtered;
    const auto index = static_cast<std::size_t>(&in - inputs.data());
    if (!o.summary) bad.emplace_back(index, o.message);
    else if (o.summary->skipped != SkipReason::none)
      skipped.emplace_back(index, in.name + " (" + std::string(to_string(o.summary->skipped)) + ")");
    else ++summary.decoded;
    // Everything of this object so far is handed over before the next one starts.
    if (auto f = sink.flush(sink_diag); !f) throw OutputFailed{f.error(), sink_diag.message};
  };

  std::mutex formatters_mu;
  std::vector<std::unique_ptr<JobFormatter>> formatters;
  auto formatter_for_thread = [&]() -> detail::LineFormatter* {
    auto f = std::make_unique<JobFormatter>(job.router, job.line_format, line_values, per_tag);
    std::lock_guard lk(formatters_mu);
    formatters.push_back(std::move(f));
    return formatters.back().get();
  };
  auto on_lines = [&](const FileInput&, detail::LineBatch& batch) {
    if (auto w = detail::write_lines_to(sink, batch, sink_diag); !w) throw OutputFailed{w.error(), sink_diag.message};
    const std::uint64_t before = progress.events;
    progress.events += batch.lines;
    if ((before >> 14) != (progress.events >> 14) && on_progress) on_progress(progress);
  };

  try {
    if (lines)
      detail::decode_files_to_lines(inputs, fopt, formatter_for_thread, on_begin, on_lines, on_done);
    else
      decode_files(inputs, fopt, on_begin, on_event, on_done);
  } catch (const OutputFailed& e) {
    diag.message = e.message;
    return e.ec;
  }
  summary.objects = progress.objects_done;
  summary.events = progress.events;
  if (job.router) {
    summary.events_per_tag.insert(job.router->counts().begin(), job.router->counts().end());
    summary.filtered += job.router->filtered();
  }
  for (const auto& f : formatters) f->add_counts(summary);
  std::sort(skipped.begin(), skipped.end());
  std::sort(bad.begin(), bad.end());
  for (auto& k : skipped) summary.skipped.push_back(std::move(k.second));
  for (auto& b : bad) summary.bad.push_back(std::move(b.second));
  return summary;
}

}  // namespace ctsqs
