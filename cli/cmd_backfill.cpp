// `ctsqs backfill`: flags over the collector file, a Backfill on one io_context, signals,
// progress on stderr, summary, exit code. Everything else is the library's (ctsqs/backfill/backfill.hpp).
#include "collect.hpp"
#include "run_loop.hpp"
#include "command.hpp"
#include "trail_range.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/collector/config.hpp"
#include "ctsqs/collector/metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <iostream>

namespace ctsqs::cli {
namespace {

namespace asio = boost::asio;

struct BackfillArgs {
  std::string ledger;  ///< override ctsqs.ledger
  std::string config_file, state, output, format, enqueue, objects_in_flight;
  TrailRangeArgs range;
  std::vector<std::string> services;
  bool dry_run = false, quiet = false;
  double progress_seconds = 10;
  int list_concurrency = 8;
  int max_receives = 3;
  int threads = -1;  ///< override concurrency.decode_threads
  std::uint64_t state_save_objects = 1000;
  double state_save_seconds = 10;
};

asio::awaitable<bool> run(Backfill* backfill, BackfillResult* result) {
  // The error code repeats the result's sink/receive error, which the summary reports.
  auto [ec, r] = co_await backfill->async_run(asio::as_tuple(asio::use_awaitable));
  *result = std::move(r);
  // Workers abandoned after the grace period (a sink write stuck) never complete: stop the loop.
  co_return result->collector.abandoned;
}

int run_backfill(const BackfillArgs& a) {
  const char* cmd = "ctsqs backfill";
  Diagnostics diag;
  auto cfg = load_config_unvalidated(cmd, a.config_file);
  if (!cfg) return exit_usage;
  apply_output_flags(*cfg, a.output, a.format);
  if (!a.ledger.empty()) cfg->ledger = a.ledger;
  apply_objects_in_flight_flag(*cfg, a.objects_in_flight);
  if (a.threads >= 0) cfg->concurrency.decode_threads = static_cast<unsigned>(a.threads);

  BackfillOptions bo;
  // Without --until, the library's: the state file's when resuming, or now.
  if (!apply_trail_range(cmd, a.range, bo.range)) return exit_usage;
  bo.state_file = a.state;
  bo.dry_run = a.dry_run;
  bo.enqueue_url = a.enqueue;
  bo.list_concurrency = static_cast<std::size_t>(std::max(1, a.list_concurrency));
  bo.max_receives = a.max_receives;
  bo.aws_services = a.services;
  bo.state_save_objects = std::max<std::uint64_t>(1, a.state_save_objects);
  bo.state_save_interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(std::max(0.0, a.state_save_seconds)));

  RunLoop rt;
  BackfillResult result;
  auto built = Backfill::create(std::move(*cfg), rt.ioc.get_executor(), bo, diag);
  if (!built) {
    std::cerr << cmd << ": " << diag.message << "\n";
    return exit_usage;
  }
  Backfill& backfill = **built;
  const std::string what = bo.dry_run ? "listing" : !bo.enqueue_url.empty() ? "enqueueing" : "reading";
  if (!a.quiet)
    std::cerr << cmd << ": " << what << " s3://" << backfill.range().bucket << "/" << backfill.range().prefix
              << " from " << format_backfill_time(backfill.range().since) << " to "
              << format_backfill_time(backfill.range().until)
              << (bo.enqueue_url.empty() ? "" : " into " + bo.enqueue_url)
              << (bo.state_file.empty() ? "" : " (state " + bo.state_file.string() + ")") << "\n";

  const auto started = std::chrono::steady_clock::now();
  RunLoop::Settings rs;
  rs.on_stop = [&backfill] { backfill.request_stop(); };
  rs.stop_note = ": finishing what is in flight";
  rs.second_signal_note = " (what is not in the state file is read again next time)";
  rs.progress_seconds = a.quiet ? 0 : a.progress_seconds;
  rs.progress_line = [&backfill, started] {
    return format_progress(backfill.progress(), std::chrono::steady_clock::now() - started);
  };
  const bool done = rt.run([&backfill, &result] { return run(&backfill, &result); }, std::move(rs));
  if (!done) return exit_bad_input;

  const auto& r = result;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (bo.dry_run) {
    std::cout << "account region day: objects bytes\n";
    for (auto& [day, n] : r.scan.per_day) std::cout << "  " << day << ": " << n.first << " " << n.second << "\n";
    std::cout << "total: " << r.scan.objects << " objects, " << r.scan.bytes << " bytes ("
              << format_si(static_cast<double>(r.scan.bytes), "B") << ") in " << r.scan.days << " day prefixes";
    if (r.scan.already_done) std::cout << "; " << r.scan.already_done << " done by an earlier run";
    std::cout << "\n";
    if (r.estimate_seconds)
      std::cout << "estimate: " << format_duration(*r.estimate_seconds) << " (at the speed of " << r.sample_objects
                << " sample objects read together in " << format_duration(r.sample_seconds)
                << "; more objects in flight are usually faster)\n";
  }
  if (!a.quiet) {
    std::cerr << cmd << ": " << r.scan.listings << " listings, " << r.scan.days << " day prefixes, "
              << r.scan.objects << " objects in range to do (" << format_si(static_cast<double>(r.scan.bytes), "B")
              << "), " << r.scan.already_done << " done earlier, " << r.scan.out_of_range
              << " outside the range, " << r.scan.not_logs << " not logs (skipped)\n";
    if (!bo.dry_run)
      std::cerr << cmd << ": " << r.objects_done << " objects " << (bo.enqueue_url.empty() ? "delivered" : "enqueued")
                << " (" << format_si(static_cast<double>(r.bytes_done), "B") << ") in " << format_duration(secs) << "\n";
    if (bo.enqueue_url.empty() && !bo.dry_run) {
      const auto p = backfill.progress();
      std::cerr << format_summary(p.metrics, std::chrono::duration<double>(secs));
    }
  }
  for (auto& f : r.failed) std::cerr << cmd << ": failed: " << f << "\n";
  for (auto& m : r.scan.missing) std::cerr << cmd << ": nothing found for " << m << "\n";
  if (r.scan_failed) std::cerr << cmd << ": listing failed: " << r.scan_error << "\n";
  if (!r.state_error.empty()) std::cerr << cmd << ": state not saved: " << r.state_error << "\n";
  if (r.collector.sink_error) std::cerr << cmd << ": output failed: " << r.collector.sink_error_message << "\n";
  if (r.collector.receive_error) std::cerr << cmd << ": " << r.collector.receive_error_message << "\n";
  if (!r.collector.drain_incomplete.empty())
    std::cerr << cmd << ": not everything was read: " << r.collector.drain_incomplete << "\n";
  if (r.collector.unfinished > 0)
    std::cerr << cmd << ": " << r.collector.unfinished << " object(s) left unfinished (read again by a rerun)\n";
  for (auto& d : r.scan.days_without_logs)
    std::cerr << cmd << ": warning: s3://" << backfill.range().bucket << "/" << d
              << " holds objects and not one log of CloudTrail's layout (skipped, not recorded)\n";
  if (r.interrupted) std::cerr << cmd << ": stopped before the end; rerun with the same --state to go on\n";
  const int code = r.clean() ? exit_ok : exit_bad_input;
  if (r.collector.abandoned) {
    // Workers stuck past the grace period still hold the client and sinks: leave without
    // unwinding them (their objects were released, not recorded done).
    std::cout.flush();
    std::cerr << cmd << ": workers stuck past the grace period were abandoned\n" << std::flush;
    std::_Exit(code);
  }
  return code;
}

CommandSetup setup_backfill = [](CLI::App& sub) -> std::function<int()> {
  auto a = std::make_shared<BackfillArgs>();
  sub.add_option("--config", a->config_file,
                 "Collector file: credentials, role, endpoints, outputs, services and caps (its queue is not needed)")
      ->required();
  add_trail_range_options(sub, a->range, "Files from this UTC time on: 2026-09-01 or 2026-09-01T06:00Z",
                          "Files before this UTC time (default: the --state file's when resuming, else now)");
  sub.add_option("--state", a->state,
                 "Resume file: what is done is recorded here (durably, after delivery) and skipped by a rerun");
  sub.add_option("--state-save-objects", a->state_save_objects,
                 "Write the --state file once this many objects were done since the last write...")
      ->capture_default_str();
  sub.add_option("--state-save-seconds", a->state_save_seconds,
                 "...or this many seconds passed (and at the end); a crash reads again at most that")
      ->capture_default_str();
  sub.add_flag("--dry-run", a->dry_run,
               "List only: objects and bytes per account, region and day, and an estimate of the time");
  sub.add_option("--output", a->output, "Where events go instead of the config's outputs: '-' or a directory");
  sub.add_option("--format", a->format, "Line format of stdout/directory outputs: flat (default), raw, devo");
  sub.add_option("--objects-in-flight", a->objects_in_flight, "'auto' (adapts to latency) or a fixed number")
      ->check(CLI::IsMember({"auto"}) | CLI::PositiveNumber);
  sub.add_option("--threads", a->threads,
                 "Threads decoding the objects in flight (concurrency.decode_threads; 0: one per core)")
      ->check(CLI::Range(0, 1024));
  sub.add_option("--enqueue", a->enqueue,
                 "Send one S3 event notification per object to this SQS queue instead of reading them");
  sub.add_option("--services", a->services, "Keep only these AWS services (s3,iam,...), as the services' aws_services")
      ->delimiter(',');
  sub.add_option("--ledger", a->ledger,
                 "Override ctsqs.ledger (file path or dynamodb://TABLE): objects it holds are not delivered again");
  sub.add_option("--list-concurrency", a->list_concurrency, "Day prefixes listed at once")->capture_default_str();
  sub.add_option("--max-receives", a->max_receives, "Failed reads of one object before it is given up")
      ->capture_default_str();
  sub.add_option("--progress", a->progress_seconds, "Seconds between progress lines on stderr (0 = none)")
      ->capture_default_str();
  sub.add_flag("--quiet,-q", a->quiet, "No progress lines and no summary");
  sub.footer(
      "Reads [prefix/]AWSLogs/[o-<org>/]<account>/CloudTrail[-Insight]/<region>/YYYY/MM/DD/ for the days of the "
      "range, keeping the files whose name time is in [since, until); digests are never read. With the service "
      "aws_sqs_guard_duty in the collector file, also .../<account>/GuardDuty/<region>/YYYY/MM/DD/*.jsonl.gz of "
      "every day that overlaps the range (their names carry no time). Exit 0 when every "
      "object in range was delivered (or enqueued), 1 when some failed (named) or the run was stopped, 2 for "
      "usage or configuration errors.");
  return [a] { return run_backfill(*a); };
};

const bool registered = register_command(
    "backfill", "Read a CloudTrail bucket by account, region and time range (resumable), or enqueue it",
    setup_backfill);

}  // namespace
}  // namespace ctsqs::cli
