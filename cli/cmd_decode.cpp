// `ctsqs decode`: decode files of a service (CloudTrail log files by default; GuardDuty exports,
// Firehose objects) or stdin into tagged, flattened events.
#include "command.hpp"

#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/decode/file_decode.hpp"
#include "ctsqs/sink/format.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/sink/devo_sink.hpp"
#include "ctsqs/sink/directory_sink.hpp"
#include "ctsqs/sink/stdout_sink.hpp"
#include "ctsqs/decode/tag_router.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace ctsqs::cli {
namespace {

namespace fs = std::filesystem;

struct DecodeArgs {
  std::string service = "aws_sqs_cloudtrail";
  std::string format = "flat";
  std::string output = "-";
  std::vector<std::string> services;
  std::string routing_template;  // empty: the service's default
  std::string hostname;
  std::uint64_t max_object_bytes = DecoderOptions{}.max_object_bytes;
  std::size_t max_record_bytes = DecoderOptions{}.max_record_bytes;
  bool quiet = false;
  unsigned threads = 0;  // 0: the machine's cores
  bool ordered = false;
  std::vector<std::string> paths;
  // --output devo://HOST:PORT
  std::string devo_cert, devo_key, devo_chain;
  bool devo_no_tls = false;
};

// Thrown from the event handler when the sink fails: output is broken, stop everything.
struct SinkFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  void update(std::uint64_t objects, std::size_t total, std::uint64_t events, bool force = false) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    std::fprintf(stderr, "\r\033[Kdecoding: %llu/%zu objects, %llu events",
                 static_cast<unsigned long long>(objects), total,
                 static_cast<unsigned long long>(events));
    shown_ = true;
  }
  void clear() {
    if (enabled_ && shown_) std::fputs("\r\033[K", stderr);
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

int run_decode(const DecodeArgs& a) {
  const bool to_devo = a.output.rfind("devo://", 0) == 0;
  // The Devo sink always writes devo lines.
  const auto fmt = to_devo ? std::optional<OutputFormat>(OutputFormat::devo) : parse_output_format(a.format);
  if (!fmt) throw std::invalid_argument("--format must be flat, raw or devo");

  const auto& registry = ServiceHandlerRegistry::builtin();
  auto service = registry.find(a.service);
  if (!service || !service->record_layout())
    throw std::invalid_argument("--service: unknown service \"" + a.service + "\"; known services: " +
                                registry.describe_known());
  ServiceSettings settings;
  settings.name = std::string(service->name());
  settings.routing_template =
      a.routing_template.empty() ? std::string(service->default_routing_template()) : a.routing_template;
  for (const auto& v : a.services) settings.aws_services.push_back(normalize_service(v));
  if (Diagnostics d; !service->check(settings, "--service " + settings.name, d)) throw std::invalid_argument(d.message);

  DecoderOptions dopt;
  dopt.layout = *service->record_layout();
  dopt.build_record = needs_record(*fmt);
  dopt.build_columns = needs_columns(*fmt);
  dopt.max_object_bytes = a.max_object_bytes;
  dopt.max_record_bytes = a.max_record_bytes;
  if (Diagnostics d; !validate(dopt, d)) throw std::invalid_argument(d.message);
  TagRouterOptions ropt = to_tag_router_options(settings);
  Diagnostics router_diag;
  auto router_made = TagRouter::create(ropt, router_diag);
  if (!router_made) throw std::invalid_argument("--routing-template/--services: " + router_diag.message);

  LineOptions line;
  line.hostname = a.hostname.empty() ? local_host_name() : a.hostname;
  if (line.hostname.find_first_of(" \t\r\n") != std::string::npos)
    throw std::invalid_argument("--hostname must not contain whitespace");

  std::unique_ptr<Sink> sink;
  LineOptions* sink_line = nullptr;
  LineOptions devo_line;  // the Devo sink stamps its own time; this one is unused
  if (to_devo) {
    DevoSinkOptions o;
    Diagnostics d;
    if (!parse_devo_url(a.output, o, d)) throw std::invalid_argument("--output: " + d.message);
    o.tls = !a.devo_no_tls;
    if (o.tls && (a.devo_cert.empty() || a.devo_key.empty()))
      throw std::invalid_argument(
          "--output devo://: --devo-cert and --devo-key are required (or --devo-no-tls for a relay)");
    o.cert_file = a.devo_cert;
    o.key_file = a.devo_key;
    o.chain_file = a.devo_chain;
    o.hostname = line.hostname;
    auto s = DevoSink::create(o, d);
    if (!s) throw std::invalid_argument("--output " + a.output + ": " + d.message);
    // Fail at start on a wrong address or a certificate the receiver refuses.
    if (!(*s)->connect(d)) {
      std::cerr << "ctsqs decode: output failed: " << d.message << "\n";
      return exit_bad_input;
    }
    sink_line = &devo_line;
    sink = std::move(*s);
  } else if (a.output == "-") {
    StdoutSinkOptions so;
    so.format = *fmt;
    so.line = line;
    auto s = std::make_unique<StdoutSink>(1, so);
    sink_line = &s->line_options();
    sink = std::move(s);
  } else {
    DirectorySinkOptions o;
    o.directory = a.output;
    o.format = *fmt;
    o.line = line;
    Diagnostics d;
    auto made = DirectorySink::create(o, d);
    if (!made) throw std::invalid_argument("--output " + a.output + ": " + made.error().message());
    auto& s = *made;
    sink_line = &s->line_options();
    sink = std::move(s);
  }

  const std::vector<FileInput> inputs = collect_file_inputs(a.paths, dopt.layout);
  FileDecodeOptions fopt;
  fopt.decoder = dopt;
  fopt.threads = a.threads;
  fopt.ordered = a.ordered;

  TagRouter& router = *router_made;
  Progress progress(!a.quiet && ::isatty(2));
  std::uint64_t objects_done = 0, decoded = 0, events = 0;
  // (input index, text): listed in input order, however the workers finished.
  std::vector<std::pair<std::size_t, std::string>> skipped, bad;

  auto on_begin = [&](const FileInput&) {
    progress.update(objects_done, inputs.size(), events);
    sink_line->time = std::chrono::system_clock::now();
  };
  auto on_event = [&](Event& e) {
    if (!router.route(e)) return;
    if (Diagnostics sd; !sink->write(e, sd)) throw SinkFailure(sd.message);
    if ((++events & 0x3fff) == 0) progress.update(objects_done, inputs.size(), events);
  };
  auto on_done = [&](const FileInput& in, FileOutcome& o) {
    ++objects_done;
    const auto index = static_cast<std::size_t>(&in - inputs.data());
    if (!o.summary) bad.emplace_back(index, o.message);
    else if (o.summary->skipped != SkipReason::none)
      skipped.emplace_back(index, in.name + " (" + std::string(to_string(o.summary->skipped)) + ")");
    else ++decoded;
    // Everything of this object so far is handed over before the next one starts.
    if (Diagnostics sd; !sink->flush(sd)) throw SinkFailure(sd.message);
  };

  int rc = exit_ok;
  try {
    decode_files(inputs, fopt, on_begin, on_event, on_done);
  } catch (const SinkFailure& e) {
    progress.clear();
    std::cerr << "ctsqs decode: output failed: " << e.what() << "\n";
    return exit_bad_input;
  }
  progress.clear();

  std::string s = "ctsqs decode: " + std::to_string(objects_done) + " objects (" +
                  std::to_string(decoded) + " decoded, " + std::to_string(skipped.size()) +
                  " skipped, " + std::to_string(bad.size()) + " bad), " + std::to_string(events) +
                  " events written\n";
  for (const auto& [tag, n] : router.counts()) s += "  " + tag + ": " + std::to_string(n) + "\n";
  if (router.filtered() > 0)
    s += "  filtered out by --services: " + std::to_string(router.filtered()) + "\n";
  std::sort(skipped.begin(), skipped.end());
  std::sort(bad.begin(), bad.end());
  for (const auto& k : skipped) s += "  skipped " + k.second + "\n";
  for (const auto& b : bad) s += "  bad " + b.second + "\n";
  std::cerr << s;
  if (!bad.empty()) rc = exit_bad_input;
  return rc;
}

std::function<int()> setup_decode(CLI::App& sub) {
  auto a = std::make_shared<DecodeArgs>();
  sub.footer(
      "Events go to stdout (or one file per tag under DIR), one line each. A summary goes to stderr\n"
      "(objects, events per tag, skipped objects with reasons, bad objects with errors); progress\n"
      "too when stderr is a terminal. Exit status: 0 every input decoded (skipped digest, Config\n"
      "check and empty objects count as decoded), 1 some input was bad (the good ones were still\n"
      "fully processed) or output failed, 2 usage error.");
  sub.add_option("--service", a->service,
                 "the format of the files, as the collector service that reads them: aws_sqs_cloudtrail "
                 "(CloudTrail log files), aws_sqs_cloudtrail_kinesis (CloudTrail through CloudWatch Logs and "
                 "Firehose), aws_sqs_guard_duty (GuardDuty exports), aws_sqs_guard_duty_kinesis (GuardDuty "
                 "through EventBridge and Firehose), or an alias")
      ->capture_default_str();
  sub.add_option("-f,--format", a->format,
                 "flat: {\"tag\":...,<flattened columns>}; raw: {\"tag\":...,\"event\":<record>}; "
                 "devo: <14>Mmm dd HH:MM:SS HOST TAG: <record>")
      ->check(CLI::IsMember({"flat", "raw", "devo"}))
      ->capture_default_str();
  sub.add_option("-o,--output", a->output,
                 "'-' for stdout, or a directory: one file per tag, <tag>.jsonl (.log for devo), "
                 "appended, fsync'ed after each input; or devo://HOST:PORT: Devo over TLS "
                 "(--devo-cert/--devo-key/--devo-chain) or a relay (--devo-no-tls), devo lines, "
                 "delivery confirmed after each input")
      ->capture_default_str();
  sub.add_option("-s,--services", a->services,
                 "keep only these services, comma separated (s3,iam,insights,... or "
                 "s3.amazonaws.com); other events are dropped and counted")
      ->delimiter(',');
  sub.add_option("--routing-template", a->routing_template,
                 "tag template with {service}, {account}, {region} (default: the service's, "
                 "cloud.aws.cloudtrail.{service} or cloud.aws.guardduty.findings)");
  sub.add_option("--hostname", a->hostname, "syslog HOSTNAME in devo lines (default: this host's name)");
  sub.add_option("--max-object-size", a->max_object_bytes,
                 "error out on an object whose uncompressed size exceeds this many bytes (gzip bombs)")
      ->capture_default_str();
  sub.add_option("--max-record-size", a->max_record_bytes,
                 "error out on a record larger than this many bytes")
      ->capture_default_str();
  sub.add_option("--devo-cert", a->devo_cert,
                 "with --output devo://HOST:PORT: the Devo domain's client certificate (PEM)");
  sub.add_option("--devo-key", a->devo_key, "with devo://: its private key (PEM, unencrypted)");
  sub.add_option("--devo-chain", a->devo_chain,
                 "with devo://: CA chain to verify the collector (default: system store)");
  sub.add_flag("--devo-no-tls", a->devo_no_tls, "with devo://: plain TCP to a Devo relay");
  sub.add_flag("-q,--quiet", a->quiet, "no progress display");
  sub.add_option("-j,--threads", a->threads,
                 "decode this many inputs at once on worker threads (0: one per core); each "
                 "input's events stay in order, inputs interleave unless --ordered")
      ->capture_default_str();
  sub.add_flag("--ordered", a->ordered,
               "write the inputs in the order given (directories: sorted), each whole, not "
               "interleaved as they are decoded (less parallel: a worker waits once 1 MiB of "
               "its input's events wait)");
  sub.add_option("PATH", a->paths,
                 "a file of the service (gzip or plain JSON, detected from its bytes), directory "
                 "(searched recursively: *.json and *.json.gz for CloudTrail, *.jsonl and *.jsonl.gz for "
                 "GuardDuty, every file for the Firehose services), or - for stdin")
      ->required();
  return [a] { return run_decode(*a); };
}

const bool registered =
    register_command("decode", "Decode CloudTrail or GuardDuty files into tagged, flattened events",
                     &setup_decode);

}  // namespace
}  // namespace ctsqs::cli
