// `ctsqs verify`: flags over the collector file, a TrailVerifier on one io_context, signals,
// progress on a terminal, the report (JSON lines), a summary like validate-logs', exit code.
// Everything else is the library's (ctsqs/integrity/trail_verifier.hpp).
#include "collect.hpp"
#include "command.hpp"
#include "stop_signals.hpp"
#include "trail_range.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/integrity/trail_verifier.hpp"
#include "ctsqs/collector/metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <fstream>
#include <iostream>

namespace ctsqs::cli {
namespace {

namespace asio = boost::asio;
using integrity::FileStatus;
using integrity::ReportRecord;

struct VerifyArgs {
  std::string config_file, report, objects_in_flight;
  int threads = -1;  ///< override concurrency.decode_threads
  TrailRangeArgs range;
  bool quiet = false;
};

struct Runtime {
  asio::io_context ioc{1};
  integrity::TrailVerifier* verifier = nullptr;
  integrity::VerifyResult result;
  bool done = false, stop_requested = false;
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  asio::steady_timer progress_timer{ioc};
};

/// validate-logs' line for a failure: "Log file\ts3://b/k\tINVALID: hash value doesn't match".
std::string failure_line(const ReportRecord& r) {
  switch (r.type) {
    case ReportRecord::Type::digest:
      return "Digest file\t" + r.uri + "\tINVALID: " + (r.status == FileStatus::missing ? "not found" : r.reason);
    case ReportRecord::Type::log:
      return "Log file\t" + r.uri + "\tINVALID: " + r.reason;
    case ReportRecord::Type::unlisted:
      return "Log file\t" + r.uri + "\tUNLISTED: in the bucket, inside the time valid digests cover, listed by none";
    case ReportRecord::Type::gap:
      return "No log files were delivered by CloudTrail between " + integrity::format_iso_seconds(r.from) + " and " +
             integrity::format_iso_seconds(r.to) + " (" + r.account + " " + r.region + ")";
  }
  return {};
}

void ratio(std::ostream& os, std::uint64_t valid, std::uint64_t bad, const char* name) {
  const auto total = valid + bad;
  if (total == 0) return;
  os << "\n" << valid << "/" << total << " " << name << " files valid";
  if (bad) os << ", " << bad << "/" << total << " " << name << " files INVALID";
}

int run_verify(const VerifyArgs& a) {
  const char* cmd = "ctsqs verify";
  Diagnostics diag;
  auto cfg = load_config_unvalidated(cmd, a.config_file);
  if (!cfg) return exit_usage;
  if (a.threads >= 0) cfg->concurrency.decode_threads = static_cast<unsigned>(a.threads);
  integrity::VerifyOptions vo;
  if (!a.objects_in_flight.empty() && a.objects_in_flight != "auto")
    vo.objects_in_flight = static_cast<std::size_t>(std::stoul(a.objects_in_flight));
  if (!apply_trail_range(cmd, a.range, vo)) return exit_usage;
  std::ofstream report_file;
  auto opened = open_report(cmd, a.report, report_file);
  if (!opened) return exit_usage;
  std::ostream* report = *opened;
  const bool tty = isatty(STDERR_FILENO) == 1;
  bool progress_shown = false;
  vo.on_record = [report, &progress_shown](const ReportRecord& r) {
    if (report) *report << integrity::to_json_line(r) << '\n';
    const bool failure = r.type == ReportRecord::Type::unlisted || r.type == ReportRecord::Type::gap ||
                         ((r.type == ReportRecord::Type::digest || r.type == ReportRecord::Type::log) &&
                          r.status != FileStatus::valid);
    if (failure) {
      if (progress_shown) std::cerr << "\r\033[K";
      std::cerr << failure_line(r) << "\n";
    }
  };

  Runtime rt;
  auto built = integrity::TrailVerifier::create(std::move(*cfg), rt.ioc.get_executor(), vo, diag);
  if (!built) {
    std::cerr << cmd << ": " << diag.message << "\n";
    return exit_usage;
  }
  rt.verifier = built->get();
  const auto& opt = rt.verifier->options();
  if (!a.quiet)
    std::cerr << "Validating log files in s3://" << opt.bucket << "/" << opt.prefix << " between "
              << integrity::format_iso_seconds(opt.since) << " and " << integrity::format_iso_seconds(opt.until)
              << "\n\n";
  const auto started = std::chrono::steady_clock::now();
  // The error code only says whether the run was cancelled through the token: not used here.
  rt.verifier->async_run([&rt](error_code, integrity::VerifyResult r) {
    rt.result = std::move(r);
    rt.done = true;
    rt.signals.cancel();
    rt.progress_timer.cancel();
  });
  stop_on_signals(rt.signals, rt.stop_requested, [&rt] { rt.verifier->request_stop(); });
  if (!a.quiet && tty)
    asio::co_spawn(rt.ioc, [&rt, &progress_shown]() -> asio::awaitable<void> {
      while (!rt.done) {
        rt.progress_timer.expires_after(std::chrono::milliseconds(500));
        co_await rt.progress_timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (rt.done) break;
        std::cerr << "\r\033[K" << integrity::format_progress(rt.verifier->progress()) << std::flush;
        progress_shown = true;
      }
      if (progress_shown) std::cerr << "\r\033[K" << std::flush;
    }, asio::detached);
  rt.ioc.run();
  if (report) report->flush();
  if (!rt.done) return exit_bad_input;
  const auto& r = rt.result;
  const auto& c = r.counts;
  if (!a.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cerr << "\nResults requested for " << integrity::format_iso_seconds(opt.since) << " to "
              << integrity::format_iso_seconds(opt.until) << "\n";
    if (c.digests_valid + c.digests_invalid + c.digests_missing == 0) {
      std::cerr << "No digests found\n";
    } else {
      if (c.found)
        std::cerr << "Results found for " << integrity::format_iso_seconds(c.found_from) << " to "
                  << integrity::format_iso_seconds(c.found_to) << ":\n";
      else
        std::cerr << "No valid digests found in range\n";
      ratio(std::cerr, c.digests_valid, c.digests_invalid + c.digests_missing, "digest");
      ratio(std::cerr, c.logs_valid, c.logs_invalid + c.logs_missing, "log");
      std::cerr << "\n";
    }
    if (c.unlisted) std::cerr << c.unlisted << " log files UNLISTED (in the bucket, listed by no digest)\n";
    if (c.gaps) std::cerr << c.gaps << " gaps (no digests: logging or validation was off)\n";
    if (r.logs_uncovered)
      std::cerr << r.logs_uncovered
                << " log files in the range are covered by no valid digest (validation off, a gap, or their digest "
                   "invalid or missing): not proven\n";
    std::cerr << "(" << r.digests_listed << " digests and " << r.logs_listed << " log files listed, "
              << format_si(static_cast<double>(r.bytes_read), "B") << " read in " << format_duration(secs) << ")\n";
  }
  for (const auto& e : r.errors) std::cerr << cmd << ": failed: " << e << "\n";
  if (r.interrupted) std::cerr << cmd << ": stopped before the end: nothing is proven\n";
  return r.clean() ? exit_ok : exit_bad_input;
}

CommandSetup setup_verify = [](CLI::App& sub) -> std::function<int()> {
  auto a = std::make_shared<VerifyArgs>();
  sub.add_option("--config", a->config_file,
                 "Collector file: credentials, role, endpoints and proxies (its queue is not needed)")
      ->required();
  add_trail_range_options(sub, a->range, "Digests ending from this UTC time on: 2026-11-01 or 2026-11-01T00:00Z",
                          "End of the range (default: now); digests up to an hour after it are read");
  sub.add_option("--report", a->report, "Write one JSON object per digest, log file, gap and unlisted file here ('-': stdout)");
  sub.add_option("--threads", a->threads,
                 "Threads inflating and hashing the objects in flight (concurrency.decode_threads; 0: one per core)")
      ->check(CLI::Range(0, 1024));
  sub.add_option("--objects-in-flight", a->objects_in_flight, "'auto' (adapts to latency, the default) or a fixed number")
      ->check(CLI::IsMember({"auto"}) | CLI::PositiveNumber);
  sub.add_flag("--quiet,-q", a->quiet, "No progress and no summary (failures are still named)");
  sub.footer(
      "Checks CloudTrail's signed digests under [prefix/]AWSLogs/[o-<org>/]<account>/CloudTrail-Digest/<region>/ "
      "(signature with the key ListPublicKeys names, place, chain) and every log file they list (SHA-256 of the "
      "uncompressed content); a log file in the bucket that valid digests should list and do not is UNLISTED. "
      "Exit 0 when every digest and log file in the range is valid (gaps alone do not fail), 1 when anything is "
      "invalid, missing or unlisted or could not be read, 2 for usage or configuration errors.");
  return [a] { return run_verify(*a); };
};

const bool registered = register_command(
    "verify", "Prove a trail's log files are all there and untouched (CloudTrail digests), like validate-logs",
    setup_verify);

}  // namespace
}  // namespace ctsqs::cli
