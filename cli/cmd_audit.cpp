// `ctsqs audit`: flags over the collector file, a LedgerAudit on one io_context, signals, the
// report (JSON lines), a summary, exit code. Everything else is the library's
// (ctsqs/ledger/audit.hpp).
#include "collect.hpp"
#include "command.hpp"
#include "stop_signals.hpp"
#include "trail_range.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/ledger/audit.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fstream>
#include <iostream>

namespace ctsqs::cli {
namespace {

namespace asio = boost::asio;
using integrity::FileStatus;
using integrity::ReportRecord;

struct AuditArgs {
  std::string config_file, ledger, report, output, format;
  TrailRangeArgs range;
  bool heal = false, quiet = false;
};

struct Runtime {
  asio::io_context ioc{1};
  LedgerAudit* audit = nullptr;
  AuditResult result;
  bool done = false, stop_requested = false;
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
};

int run_audit(const AuditArgs& a) {
  const char* cmd = "ctsqs audit";
  Diagnostics diag;
  auto cfg = load_config_unvalidated(cmd, a.config_file);
  if (!cfg) return exit_usage;
  if (!a.ledger.empty()) cfg->ledger = a.ledger;
  try {
    apply_output_flags(*cfg, a.output, a.format);
  } catch (const CLI::ValidationError& e) {
    std::cerr << cmd << ": " << e.what() << "\n";
    return exit_usage;
  }
  AuditOptions ao;
  ao.heal = a.heal;
  if (!apply_trail_range(cmd, a.range, ao.verify)) return exit_usage;
  std::ofstream report_file;
  auto opened = open_report(cmd, a.report, report_file);
  if (!opened) return exit_usage;
  std::ostream* report = *opened;
  // Digests that are not valid, and gaps, are named (and reported): what they cover is not proven.
  ao.verify.on_record = [report](const ReportRecord& r) {
    const bool bad_digest = r.type == ReportRecord::Type::digest && r.status != FileStatus::valid;
    if (!bad_digest && r.type != ReportRecord::Type::gap) return;
    if (report) *report << integrity::to_json_line(r) << '\n';
    if (bad_digest)
      std::cerr << "Digest file\t" << r.uri << "\tINVALID: " << (r.status == FileStatus::missing ? "not found" : r.reason)
                << "\n";
    else
      std::cerr << "No log files were delivered by CloudTrail between " << integrity::format_iso_seconds(r.from)
                << " and " << integrity::format_iso_seconds(r.to) << " (" << r.account << " " << r.region << ")\n";
  };
  ao.on_record = [report, quiet = a.quiet](const AuditRecord& r) {
    if (report) *report << to_json_line(r) << '\n';
    if (r.type == AuditRecord::Type::undelivered && r.reason.empty())
      std::cerr << "Log file\t" << r.uri << "\tUNDELIVERED: listed by " << r.digest << ", not in the ledger\n";
    else if (r.type == AuditRecord::Type::healed && !quiet)
      std::cerr << "Log file\t" << r.uri << "\tHEALED: delivered now\n";
  };

  Runtime rt;
  auto built = LedgerAudit::create(std::move(*cfg), rt.ioc.get_executor(), std::move(ao), diag);
  if (!built) {
    std::cerr << cmd << ": " << diag.message << "\n";
    return exit_usage;
  }
  rt.audit = built->get();
  const auto& opt = rt.audit->options();
  if (!a.quiet)
    std::cerr << "Auditing s3://" << opt.bucket << "/" << opt.prefix << " between "
              << integrity::format_iso_seconds(opt.since) << " and " << integrity::format_iso_seconds(opt.until)
              << " against " << rt.audit->ledger_description() << "\n\n";
  // The error code repeats the heal's sink/receive error, which the result carries and the
  // summary below reports.
  rt.audit->async_run([&rt](error_code, AuditResult r) {
    rt.result = std::move(r);
    rt.done = true;
    rt.signals.cancel();
  });
  stop_on_signals(rt.signals, rt.stop_requested, [&rt] { rt.audit->request_stop(); });
  rt.ioc.run();
  if (report) report->flush();
  if (!rt.done) return exit_bad_input;
  const auto& r = rt.result;
  const auto& c = r.verify.counts;
  if (!a.quiet) {
    std::cerr << "\n" << c.digests_valid << "/" << (c.digests_valid + c.digests_invalid + c.digests_missing)
              << " digest files valid; " << r.listed << " log files listed by them, " << (r.listed - r.undelivered)
              << " in the ledger, " << r.undelivered << " UNDELIVERED";
    if (r.heal_ran) std::cerr << "; healed " << r.healed << ", still undelivered " << r.remaining;
    std::cerr << " (" << r.lookups << " ledger lookups)\n";
    if (c.gaps) std::cerr << c.gaps << " gaps (no digests: logging or validation was off)\n";
  }
  for (const auto& e : r.verify.errors) std::cerr << cmd << ": failed: " << e << "\n";
  for (const auto& e : r.errors) std::cerr << cmd << ": failed: " << e << "\n";
  if (r.heal_ran && !r.heal_result.clean()) {
    std::cerr << cmd << ": the heal's delivery did not end cleanly";
    if (!r.heal_result.receive_error_message.empty()) std::cerr << ": " << r.heal_result.receive_error_message;
    if (!r.heal_result.sink_error_message.empty()) std::cerr << ": " << r.heal_result.sink_error_message;
    std::cerr << "\n";
  }
  if (r.verify.interrupted || rt.stop_requested) std::cerr << cmd << ": stopped before the end: nothing is proven\n";
  return r.clean() && !rt.stop_requested ? exit_ok : exit_bad_input;
}

CommandSetup setup_audit = [](CLI::App& sub) -> std::function<int()> {
  auto a = std::make_shared<AuditArgs>();
  sub.add_option("--config", a->config_file,
                 "Collector file: credentials, role, endpoints, proxies, ledger (and for --heal its outputs)")
      ->required();
  sub.add_option("--ledger", a->ledger, "Override ctsqs.ledger: a SQLite file path or dynamodb://TABLE");
  add_trail_range_options(sub, a->range, "Digests ending from this UTC time on: 2026-11-01 or 2026-11-01T00:00Z",
                          "End of the range (default: now); digests up to an hour after it are read");
  sub.add_option("--report", a->report,
                 "Write one JSON object per undelivered (and, with --heal, healed) log file, invalid digest and gap "
                 "here ('-': stdout)");
  sub.add_flag("--heal", a->heal,
               "Deliver the undelivered log files now through the file's outputs (recorded in the ledger), then look "
               "them up again");
  sub.add_option("--output", a->output, "--heal: write to '-' (stdout) or a directory instead of the file's outputs");
  sub.add_option("--format", a->format, "--heal: flat, raw or devo (with --output)");
  sub.add_flag("--quiet,-q", a->quiet, "No summary (undelivered files and failures are still named)");
  sub.footer(
      "Checks CloudTrail's signed digests in the range (as ctsqs verify, without fetching the log files) and looks "
      "every log file a valid digest lists up in the delivery ledger (one lookup per digest). Exit 0 when every "
      "digest is valid and every listed log file is in the ledger (after --heal: was delivered now), 1 when any is "
      "undelivered, a digest is invalid or missing, or a lookup failed, 2 for usage or configuration errors.");
  return [a] { return run_audit(*a); };
};

const bool registered = register_command(
    "audit", "Which log files CloudTrail's digests list that the delivery ledger never recorded (--heal: deliver them)",
    setup_audit);

}  // namespace
}  // namespace ctsqs::cli
