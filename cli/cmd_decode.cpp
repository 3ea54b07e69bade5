// `ctsqs decode`: decode files of a service (CloudTrail log files by default; GuardDuty exports,
// Firehose objects) or stdin into tagged, flattened events.
#include "command.hpp"

#include "ctsqs/decode/file_decode_job.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/sink/format.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace ctsqs::cli {
namespace {

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
  FileDecodeJobOptions o;
  o.output = a.output;
  if (o.output.rfind("devo://", 0) != 0) {  // the Devo output always writes devo lines
    const auto fmt = parse_output_format(a.format);
    if (!fmt) throw std::invalid_argument("--format must be flat, raw or devo");
    o.format = *fmt;
  }
  o.service = a.service;
  o.aws_services = a.services;
  o.routing_template = a.routing_template;
  o.hostname = a.hostname;
  o.max_object_bytes = a.max_object_bytes;
  o.max_record_bytes = a.max_record_bytes;
  o.paths = a.paths;
  o.threads = a.threads;
  o.ordered = a.ordered;
  o.devo_cert = a.devo_cert;
  o.devo_key = a.devo_key;
  o.devo_chain = a.devo_chain;
  o.devo_tls = !a.devo_no_tls;
  Progress progress(!a.quiet && ::isatty(2));
  o.on_progress = [&progress](const FileDecodeProgress& p) {
    progress.update(p.objects_done, p.objects_total, p.events);
  };

  Diagnostics diag;
  auto job = FileDecodeJob::create(std::move(o), ServiceHandlerRegistry::builtin(), diag);
  if (!job) throw std::invalid_argument(diag.message);
  auto done = job->run(diag);
  progress.clear();
  if (!done) {
    std::cerr << "ctsqs decode: output failed: " << diag.message << "\n";
    return exit_bad_input;
  }
  const FileDecodeSummary& r = *done;
  std::string s = "ctsqs decode: " + std::to_string(r.objects) + " objects (" + std::to_string(r.decoded) +
                  " decoded, " + std::to_string(r.skipped.size()) + " skipped, " + std::to_string(r.bad.size()) +
                  " bad), " + std::to_string(r.events) + " events written\n";
  for (const auto& [tag, n] : r.events_per_tag) s += "  " + tag + ": " + std::to_string(n) + "\n";
  if (r.filtered > 0) s += "  filtered out by --services: " + std::to_string(r.filtered) + "\n";
  for (const auto& k : r.skipped) s += "  skipped " + k + "\n";
  for (const auto& b : r.bad) s += "  bad " + b + "\n";
  std::cerr << s;
  return r.bad.empty() ? exit_ok : exit_bad_input;
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
