// `ctsqs run` / `ctsqs drain`: flags over the collector file, build_collector() on one io_context,
// signals, progress on stderr, summary, exit code.
#include "collect.hpp"
#include "run_loop.hpp"

#include "command.hpp"
#include "systemd_notify.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/collector/config.hpp"
#include "ctsqs/integrity/drain_heal.hpp"
#include "ctsqs/collector/metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <iostream>

namespace ctsqs::cli {

namespace asio = boost::asio;

namespace {

asio::awaitable<bool> run_pipeline(AssembledCollector* collector, CollectorResult* result) {
  // The error code repeats the result's sink/receive error, which run_collect() reports.
  auto [ec, r] = co_await collector->async_run(asio::as_tuple(asio::use_awaitable));
  *result = std::move(r);
  co_return true;  // stop the loop at once: abandoned workers never complete
}

}  // namespace

std::optional<CollectorConfig> load_config_unvalidated(const char* cmd, const std::string& path) {
  Diagnostics diag;
  ConfigParseOptions po;
  po.validate = false;
  auto cfg = load_collector_config(path, diag, po);
  if (!cfg) {
    std::cerr << cmd << ": " << (diag.message.empty() ? cfg.error().message() : diag.message) << "\n";
    return std::nullopt;
  }
  return std::move(*cfg);
}

void apply_objects_in_flight_flag(CollectorConfig& cfg, const std::string& value) {
  if (value == "auto") {
    cfg.concurrency.adaptive_objects_in_flight = true;
  } else if (!value.empty()) {
    cfg.concurrency.objects_in_flight = std::stoul(value);
    cfg.concurrency.adaptive_objects_in_flight = false;
  }
}

void apply_output_flags(CollectorConfig& cfg, const std::string& output, const std::string& format) {
  std::optional<OutputFormat> fmt;
  if (!format.empty()) {
    fmt = parse_output_format(format);
    if (!fmt) throw CLI::ValidationError("--format", "expected flat, raw or devo, got \"" + format + "\"");
  }
  if (!output.empty()) {
    cfg.outputs = {};
    if (output == "-")
      cfg.outputs.standard_output = StdoutOutputConfig{fmt.value_or(OutputFormat::flat)};
    else
      cfg.outputs.directory = DirectoryOutputConfig{output, fmt.value_or(OutputFormat::flat)};
  } else if (fmt) {
    if (cfg.outputs.standard_output) cfg.outputs.standard_output->format = *fmt;
    if (cfg.outputs.directory) cfg.outputs.directory->format = *fmt;
    if (cfg.outputs.empty()) cfg.outputs.standard_output = StdoutOutputConfig{*fmt};
  }
  // No output at all: build_collector() writes to stdout (flat), the library's default.
}

void add_collect_options(CLI::App& sub, CollectArgs& a, bool drain) {
  sub.add_option("--config", a.config_file, "Collector file: Devo's SQS collector template plus the ctsqs section")
      ->required();
  sub.add_option("--output", a.output,
                 "Where events go instead of the config's outputs: '-' for stdout, or a directory "
                 "(one file per tag)");
  sub.add_option("--format", a.format, "Line format of stdout/directory outputs: flat (default), raw, devo");
  sub.add_option("--progress", a.progress_seconds, "Seconds between progress lines on stderr (0 = none)")
      ->capture_default_str();
  sub.add_option("--wait-time", a.wait_time, "Override sqs.wait_time: long-poll seconds (0..20)");
  if (drain)
    sub.add_option("--empty-polls", a.empty_polls,
                   "Override drain.empty_polls: consecutive empty long polls that end the drain");
  sub.add_option("--retry-backoff", a.retry_backoff,
                 "Seconds a message is hidden after its first retryable failure (doubles per receive; default 5)");
  sub.add_option("--shutdown-grace", a.shutdown_grace, "Override run.shutdown_grace (seconds)");
  sub.add_option("--objects-in-flight", a.objects_in_flight,
                 "Override concurrency.objects_in_flight: 'auto' (adapts to latency) or a fixed number")
      ->check(CLI::IsMember({"auto"}) | CLI::PositiveNumber);
  sub.add_option("--max-objects-in-flight", a.max_objects_in_flight,
                 "Override concurrency.max_objects_in_flight (the adaptive limit's ceiling)");
  sub.add_option("--messages-in-flight", a.messages_in_flight, "Override concurrency.messages_in_flight");
  sub.add_option("--threads", a.threads,
                 "Override concurrency.decode_threads: threads decoding the objects in flight (0: one per core)")
      ->check(CLI::Range(0, 1024));
  sub.add_option("--max-messages", a.max_messages, "Override sqs.max_messages: messages per receive (1..10)");
  sub.add_option("--metrics-listen", a.metrics_listen,
                 "Serve Prometheus metrics on this loopback HOST:PORT (overrides metrics.listen)");
  sub.add_option("--ledger", a.ledger,
                 "Override ctsqs.ledger: the delivery ledger, a SQLite file path or dynamodb://TABLE "
                 "(objects delivered before are not delivered again)");
  sub.add_option("--heal-grace", a.heal_grace,
                 "Override ctsqs.integrity.heal_grace: how long after its digest a hole is looked up again "
                 "before it is healed, e.g. 10m, 90s (default 10m)")
      ->transform(CLI::AsNumberWithUnit(std::map<std::string, int>{{"s", 1}, {"m", 60}, {"h", 3600}},
                                        CLI::AsNumberWithUnit::CASE_SENSITIVE))
      ->check(CLI::NonNegativeNumber);
  sub.add_flag("--quiet,-q", a.quiet, "No progress lines and no summary");
}

int run_collect(const CollectArgs& a, bool drain) {
  const char* cmd = drain ? "ctsqs drain" : "ctsqs run";
  Diagnostics diag;
  auto cfg = load_config_unvalidated(cmd, a.config_file);
  if (!cfg) return exit_usage;
  // Command-line overrides, then validation of the whole.
  if (a.wait_time >= 0) cfg->sqs.wait_time = std::chrono::seconds(a.wait_time);
  if (a.empty_polls >= 0) cfg->drain.empty_polls = a.empty_polls;
  if (a.shutdown_grace >= 0) cfg->run.shutdown_grace = std::chrono::seconds(a.shutdown_grace);
  apply_objects_in_flight_flag(*cfg, a.objects_in_flight);
  if (a.max_objects_in_flight > 0) cfg->concurrency.max_objects_in_flight = static_cast<std::size_t>(a.max_objects_in_flight);
  if (a.messages_in_flight > 0) cfg->concurrency.messages_in_flight = static_cast<std::size_t>(a.messages_in_flight);
  if (a.threads >= 0) cfg->concurrency.decode_threads = static_cast<unsigned>(a.threads);
  if (a.max_messages > 0) cfg->sqs.max_messages = a.max_messages;
  if (!a.metrics_listen.empty()) cfg->metrics.listen = a.metrics_listen;
  if (!a.ledger.empty()) cfg->ledger = a.ledger;
  if (a.heal_grace >= 0) cfg->integrity.heal_grace = std::chrono::seconds(a.heal_grace);
  apply_output_flags(*cfg, a.output, a.format);

  RunLoop rt;
  CollectorResult result;
  AssemblyOptions ao;
  ao.drain = drain;
  if (a.retry_backoff >= 0) ao.retry_backoff_min = std::chrono::seconds(a.retry_backoff);
  auto built = build_collector(std::move(*cfg), rt.ioc.get_executor(), ao, diag);
  if (!built) {
    std::cerr << cmd << ": " << diag.message << "\n";
    return exit_usage;
  }
  AssembledCollector& collector = **built;
  const auto& config = collector.config();
  if (auto port = collector.metrics_port(); port && !a.quiet)
    std::cerr << cmd << ": metrics on http://" << *config.metrics.listen << "/metrics (port " << *port << ")\n";
  if (!a.quiet)
    std::cerr << cmd << ": collector " << config.id << " on " << config.queue_url << " (SQS endpoint "
              << collector.sqs_endpoint() << ")\n";
  const auto started = std::chrono::steady_clock::now();
  RunLoop::Settings rs;
  rs.on_stop = [&collector] {
    notify_stopping("finishing the messages in flight");
    collector.request_stop();
  };
  rs.on_started = [&config] { notify_ready("collecting from " + config.queue_url); };
  // systemd's watchdog (WatchdogSec=): pinged from the collector's own event loop, so a loop
  // that stops turning gets the service restarted.
  if (auto wd = watchdog_interval()) {
    rs.watchdog_interval = *wd;
    rs.watchdog_ping = [] { notify_watchdog(); };
  }
  rs.second_signal_note = " (in-flight messages come back after their visibility timeout)";
  rs.progress_seconds = a.quiet ? 0 : a.progress_seconds;
  auto prev = std::make_shared<std::pair<MetricsSnapshot, std::chrono::steady_clock::time_point>>(
      collector.metrics().snapshot(), started);
  rs.progress_line = [&collector, prev] {
    const auto now = collector.metrics().snapshot();
    const auto now_t = std::chrono::steady_clock::now();
    auto line = format_progress(now, prev->first, now_t - prev->second);
    *prev = {now, now_t};
    return line;
  };
  const bool done = rt.run([&collector, &result] { return run_pipeline(&collector, &result); }, std::move(rs));

  const auto snap = collector.metrics().snapshot();
  if (!a.quiet) {
    std::cerr << format_summary(snap, std::chrono::steady_clock::now() - started);
    const auto per_tag = collector.delivered_per_tag();
    if (!per_tag.empty()) {
      std::cerr << "  events per tag:\n";
      for (auto& [tag, n] : per_tag) std::cerr << "    " << tag << " " << n << "\n";
    }
    if (const auto services = collector.per_service(); services.size() > 1) {
      std::cerr << "  per service (objects or messages with events, events decoded):\n";
      for (auto& s : services)
        std::cerr << "    " << s.service << ": " << s.objects << " objects, " << s.events << " events\n";
    }
  }
  // Heals: listed files gone from the bucket, and what could not be healed, by name.
  const auto heal = collector.heal_summary();
  if (heal) {
    for (const auto& f : heal->evidence_missing)
      std::cerr << cmd << ": missing evidence: " << f << " is listed by its digest and no longer in the bucket\n";
    for (const auto& f : heal->failed) std::cerr << cmd << ": not healed: " << f << "\n";
    for (const auto& f : heal->unfinished) std::cerr << cmd << ": not healed (stopped first): " << f << "\n";
  }
  if (!done) return exit_bad_input;  // the loop ended without the pipeline finishing
  if (result.abandoned) {
    // Workers stuck past the grace period still hold the client and sinks: leave without
    // unwinding them (their messages were released and will be redelivered).
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(drain ? exit_bad_input : exit_ok);
  }
  if (result.sink_error) {
    std::cerr << cmd << ": output failed: " << result.sink_error_message << "; " << result.unfinished
              << " message(s) released for redelivery, none of them deleted\n";
    return exit_bad_input;
  }
  if (drain) {
    if (result.receive_error) {
      std::cerr << cmd << ": gave up on " << config.queue_url << ": " << result.receive_error_message
                << "\n";
      // Permissions, credentials or a wrong queue are configuration problems.
      return is_retryable_failure(result.receive_error) ? exit_bad_input : exit_usage;
    }
    if (!result.drain_incomplete.empty())
      std::cerr << cmd << ": " << config.queue_url << " is not drained: " << result.drain_incomplete << "\n";
    if (result.permanent_failures > 0 || result.unfinished > 0 || !result.drain_incomplete.empty()) {
      if (!a.quiet)
        std::cerr << cmd << ": " << result.permanent_failures << " message(s) failed permanently, "
                  << result.unfinished << " left for a retry\n";
      return exit_bad_input;
    }
    if (heal && (!heal->evidence_missing.empty() || !heal->failed.empty() || !heal->unfinished.empty()))
      return exit_bad_input;
    return exit_ok;
  }
  return exit_ok;  // run: stopped by a signal, in-flight work finished or released
}

}  // namespace ctsqs::cli
