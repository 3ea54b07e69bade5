// `ctsqs run` / `ctsqs drain` wiring: config file -> AwsClient, SqsSource, S3ObjectStore, sinks,
// Collector on one io_context; signals, progress on stderr, metrics endpoint, summary, exit code.
#include "collect.hpp"

#include "command.hpp"
#include "ctsqs/aws_client.hpp"
#include "ctsqs/collector.hpp"
#include "ctsqs/collector_config.hpp"
#include "ctsqs/endpoints.hpp"
#include "ctsqs/metrics.hpp"
#include "ctsqs/metrics_server.hpp"
#include "ctsqs/object_store.hpp"
#include "ctsqs/sink/devo_sink.hpp"
#include "ctsqs/sink/directory_sink.hpp"
#include "ctsqs/sink/stdout_sink.hpp"
#include "ctsqs/sqs_source.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <map>
#include <mutex>

namespace ctsqs::cli {

namespace asio = boost::asio;

namespace {

/// Writes every event to each of several sinks; a flush succeeds only when all of them flushed.
class MultiSink final : public Sink {
 public:
  void add(std::unique_ptr<Sink> s) { sinks_.push_back(std::move(s)); }
  result<void> write(const Event& e) override {
    result<void> r;
    for (auto& s : sinks_)
      if (auto w = s->write(e); !w) r = failed(*s, w.error());
    return r;
  }
  result<void> flush() override {
    result<void> r;
    for (auto& s : sinks_)
      if (auto f = s->flush(); !f) r = failed(*s, f.error());
    return r;
  }
  std::string last_error() const override { return last_error_; }

 private:
  error_code failed(const Sink& s, error_code ec) {
    last_error_ = s.last_error();
    return ec;
  }
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::string last_error_;
};

/// Delivers nothing (`do_not_send`): every flush "succeeds", so messages are acknowledged.
class NullSink final : public Sink {
 public:
  result<void> write(const Event&) override { return {}; }
  result<void> flush() override { return {}; }
};

/// Counts events per tag, committing a window's counts only when its flush succeeded.
class CountingSink final : public Sink {
 public:
  explicit CountingSink(Sink& inner) : inner_(inner) {}
  result<void> write(const Event& e) override {
    auto r = inner_.write(e);
    if (r) ++window_[e.tag];
    return r;
  }
  result<void> flush() override {
    auto r = inner_.flush();
    std::lock_guard lk(mu_);
    if (r)
      for (auto& [tag, n] : window_) totals_[tag] += n;
    window_.clear();
    return r;
  }
  std::string last_error() const override { return inner_.last_error(); }
  std::map<std::string, std::uint64_t> totals() const {
    std::lock_guard lk(mu_);
    return totals_;
  }

 private:
  Sink& inner_;
  std::map<std::string, std::uint64_t> window_;  // sink thread only
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> totals_;
};

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "ctsqs";
  return buf;
}

struct Runtime {
  asio::io_context ioc{1};
  Collector* collector = nullptr;
  Metrics* metrics = nullptr;
  CollectorResult result;
  bool done = false;
  bool stop_requested = false;
  double progress_seconds = 0;
};

asio::awaitable<void> run_pipeline(Runtime* rt) {
  rt->result = co_await rt->collector->async_run();
  rt->done = true;
  rt->ioc.stop();
}

asio::awaitable<void> progress_loop(Runtime* rt) {
  const bool tty = isatty(STDERR_FILENO) == 1;
  auto prev = rt->metrics->snapshot();
  auto prev_t = std::chrono::steady_clock::now();
  asio::steady_timer t(rt->ioc);
  while (!rt->done) {
    t.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(rt->progress_seconds)));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    if (rt->done) break;
    const auto now = rt->metrics->snapshot();
    const auto now_t = std::chrono::steady_clock::now();
    const auto line = format_progress(now, prev, now_t - prev_t);
    if (tty)
      std::cerr << "\r\033[K" << line << std::flush;
    else
      std::cerr << line << "\n" << std::flush;
    prev = now;
    prev_t = now_t;
  }
  if (tty) std::cerr << "\r\033[K" << std::flush;
}

asio::awaitable<void> signal_loop(Runtime* rt) {
  asio::signal_set signals(rt->ioc, SIGINT, SIGTERM);
  for (;;) {
    auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (rt->stop_requested) {
      std::cerr << "ctsqs: second signal: exiting now (in-flight messages come back after their visibility timeout)\n";
      std::_Exit(130);
    }
    rt->stop_requested = true;
    std::cerr << "\nctsqs: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << " received\n";
    rt->collector->request_stop();
  }
}

std::optional<OutputFormat> format_override(const CollectArgs& a) {
  if (a.format.empty()) return std::nullopt;
  auto f = parse_output_format(a.format);
  if (!f) throw CLI::ValidationError("--format", "expected flat, raw or devo, got \"" + a.format + "\"");
  return f;
}

}  // namespace

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
  sub.add_option("--objects-in-flight", a.objects_in_flight, "Override concurrency.objects_in_flight");
  sub.add_option("--messages-in-flight", a.messages_in_flight, "Override concurrency.messages_in_flight");
  sub.add_option("--max-messages", a.max_messages, "Override sqs.max_messages: messages per receive (1..10)");
  sub.add_option("--metrics-listen", a.metrics_listen,
                 "Serve Prometheus metrics on this loopback HOST:PORT (overrides metrics.listen)");
  sub.add_flag("--quiet,-q", a.quiet, "No progress lines and no summary");
}

int run_collect(const CollectArgs& a, bool drain) {
  const char* cmd = drain ? "ctsqs drain" : "ctsqs run";
  Diagnostics diag;
  ConfigParseOptions po;
  po.validate = false;
  auto cfg = load_collector_config(a.config_file, diag, po);
  if (!cfg) {
    std::cerr << cmd << ": " << (diag.message.empty() ? cfg.error().message() : diag.message) << "\n";
    return exit_usage;
  }
  // Command-line overrides, then validation of the whole.
  if (a.wait_time >= 0) cfg->sqs.wait_time = std::chrono::seconds(a.wait_time);
  if (a.empty_polls >= 0) cfg->drain.empty_polls = a.empty_polls;
  if (a.shutdown_grace >= 0) cfg->run.shutdown_grace = std::chrono::seconds(a.shutdown_grace);
  if (a.objects_in_flight > 0) cfg->concurrency.objects_in_flight = static_cast<std::size_t>(a.objects_in_flight);
  if (a.messages_in_flight > 0) cfg->concurrency.messages_in_flight = static_cast<std::size_t>(a.messages_in_flight);
  if (a.max_messages > 0) cfg->sqs.max_messages = a.max_messages;
  if (!a.metrics_listen.empty()) cfg->metrics.listen = a.metrics_listen;
  const auto fmt = format_override(a);
  if (!a.output.empty()) {
    cfg->outputs = {};
    if (a.output == "-")
      cfg->outputs.standard_output = StdoutOutputConfig{fmt.value_or(OutputFormat::flat)};
    else
      cfg->outputs.directory = DirectoryOutputConfig{a.output, fmt.value_or(OutputFormat::flat)};
  } else if (fmt) {
    if (cfg->outputs.standard_output) cfg->outputs.standard_output->format = *fmt;
    if (cfg->outputs.directory) cfg->outputs.directory->format = *fmt;
    if (cfg->outputs.empty()) cfg->outputs.standard_output = StdoutOutputConfig{*fmt};
  }
  if (cfg->outputs.empty()) cfg->outputs.standard_output = StdoutOutputConfig{};
  if (auto v = validate(*cfg, diag); !v) {
    std::cerr << cmd << ": invalid configuration:\n" << diag.message << "\n";
    return exit_usage;
  }
  for (auto& w : cfg->warnings) std::cerr << cmd << ": warning: " << w.path << ": " << w.message << "\n";
  if (!cfg->enabled) {
    std::cerr << cmd << ": inputs.sqs_collector.enabled is false: nothing to do\n";
    return exit_usage;
  }
  if (cfg->direct_mode || cfg->compressed_events) {
    std::cerr << cmd << ": inputs.sqs_collector."
              << (cfg->direct_mode ? "direct_mode" : "compressed_events")
              << " is not supported: ctsqs collects CloudTrail files announced through S3 notifications\n";
    return exit_usage;
  }
  if (cfg->services.size() > 1)
    std::cerr << cmd << ": warning: inputs.sqs_collector.services: several services on one queue; using "
              << cfg->services.front().configured_name << "\n";
  const auto& service = cfg->services.front();
  auto handler = ServiceHandlerRegistry::builtin().find(service.name);
  if (!handler) {
    std::cerr << cmd << ": unknown service " << service.name << "; known: "
              << ServiceHandlerRegistry::builtin().describe_known() << "\n";
    return exit_usage;
  }

  // ---- sinks ----
  LineOptions line;
  line.hostname = host_name();
  line.time = std::chrono::system_clock::now();
  MultiSink multi;
  bool need_record = false, need_columns = false;
  auto note_format = [&](OutputFormat f) {
    need_record = need_record || needs_record(f);
    need_columns = need_columns || needs_columns(f);
  };
  if (cfg->do_not_send) {
    multi.add(std::make_unique<NullSink>());
    need_columns = true;
  } else {
    if (cfg->outputs.standard_output) {
      StdoutSinkOptions so;
      so.format = cfg->outputs.standard_output->format;
      so.line = line;
      note_format(so.format);
      multi.add(std::make_unique<StdoutSink>(so));
    }
    if (cfg->outputs.directory) {
      DirectorySinkOptions d;
      d.directory = cfg->outputs.directory->path;
      d.format = cfg->outputs.directory->format;
      d.line = line;
      note_format(d.format);
      multi.add(std::make_unique<DirectorySink>(d));
    }
    if (cfg->outputs.devo) {
      auto devo = DevoSink::create(*cfg->outputs.devo, diag);
      if (!devo) {
        std::cerr << cmd << ": ctsqs.outputs.devo: " << diag.message << "\n";
        return exit_usage;
      }
      need_record = true;
      multi.add(std::move(*devo));
    }
  }
  CountingSink sink(multi);

  // ---- AWS, pipeline ----
  Runtime rt;
  rt.progress_seconds = a.quiet ? 0 : a.progress_seconds;
  AwsClientOptions ao;
  ao.credentials = cfg->credentials;
  ao.endpoints = cfg->aws;
  ao.env = process_environment();
  AwsClient client(rt.ioc.get_executor(), ao);
  SqsSourceOptions so;
  so.queue_url = cfg->queue_url;
  so.wait_time = cfg->sqs.wait_time;
  so.max_messages = cfg->sqs.max_messages;
  so.visibility_timeout = cfg->sqs.visibility_timeout;
  SqsSource source(client, so);
  S3ObjectStoreOptions s3o;
  s3o.force_path_style = cfg->aws.s3_force_path_style;
  S3ObjectStore store(client, s3o);

  Metrics metrics;
  DecoderOptions dopt;
  dopt.build_record = need_record;
  dopt.build_columns = need_columns;
  if (cfg->decoder.max_object_bytes) dopt.max_object_bytes = *cfg->decoder.max_object_bytes;
  if (cfg->decoder.max_record_bytes) dopt.max_record_bytes = static_cast<std::size_t>(*cfg->decoder.max_record_bytes);

  CollectorOptions co;
  co.collector_id = cfg->id;
  co.messages_in_flight = cfg->concurrency.messages_in_flight;
  co.objects_in_flight = cfg->concurrency.objects_in_flight;
  co.receives_in_flight = cfg->concurrency.receives_in_flight;
  co.max_messages_per_receive = cfg->sqs.max_messages;
  co.visibility_timeout = cfg->sqs.visibility_timeout;
  co.visibility_extension_interval = cfg->sqs.visibility_extension_interval;
  if (a.retry_backoff >= 0) co.retry_backoff_min = std::chrono::seconds(a.retry_backoff);
  if (co.retry_backoff_max < co.retry_backoff_min) co.retry_backoff_max = co.retry_backoff_min;
  if (cfg->on_permanent_error.action == PermanentErrorPolicy::Action::delete_after_receives)
    co.on_permanent_failure.delete_after_receives = cfg->on_permanent_error.receives;
  co.on_sink_failure.give_up_after_flushes = cfg->on_sink_failure.give_up_after_flushes;
  co.on_sink_failure.give_up_after = cfg->on_sink_failure.give_up_after;
  co.ack_messages = cfg->ack_messages && service.ack_messages.value_or(true);
  co.drain_empty_polls = drain ? std::max(1, cfg->drain.empty_polls) : 0;
  co.shutdown_grace = cfg->run.shutdown_grace;
  co.heartbeat.enabled = cfg->heartbeat.enabled;
  co.heartbeat.interval = cfg->heartbeat.interval;
  co.heartbeat.tag = cfg->heartbeat.tag;
  if (auto v = validate(co, diag); !v) {
    std::cerr << cmd << ": " << diag.message << "\n";
    return exit_usage;
  }
  Collector collector(rt.ioc.get_executor(), source, store, sink,
                      make_payload_decoder_factory(handler, service, dopt), co, metrics);
  rt.collector = &collector;
  rt.metrics = &metrics;

  std::unique_ptr<MetricsServer> metrics_server;
  if (cfg->metrics.listen) {
    auto ms = MetricsServer::start(
        rt.ioc.get_executor(), *cfg->metrics.listen,
        [&metrics, id = cfg->id] { return to_prometheus(metrics.snapshot(), id); }, diag);
    if (!ms) {
      std::cerr << cmd << ": ctsqs.metrics.listen: " << diag.message << "\n";
      return exit_usage;
    }
    metrics_server = std::move(*ms);
    if (!a.quiet)
      std::cerr << cmd << ": metrics on http://" << *cfg->metrics.listen << "/metrics (port "
                << metrics_server->port() << ")\n";
  }

  if (!a.quiet)
    std::cerr << cmd << ": collector " << cfg->id << " on " << cfg->queue_url << " (SQS endpoint "
              << source.endpoint() << ")\n";
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(rt.ioc, signal_loop(&rt), asio::detached);
  if (rt.progress_seconds > 0) asio::co_spawn(rt.ioc, progress_loop(&rt), asio::detached);
  asio::co_spawn(rt.ioc, run_pipeline(&rt), asio::detached);
  rt.ioc.run();
  if (metrics_server) metrics_server->stop();

  const auto snap = metrics.snapshot();
  if (!a.quiet) {
    std::cerr << format_summary(snap, std::chrono::steady_clock::now() - started);
    const auto per_tag = sink.totals();
    if (!per_tag.empty()) {
      std::cerr << "  events per tag:\n";
      for (auto& [tag, n] : per_tag) std::cerr << "    " << tag << " " << n << "\n";
    }
  }
  if (!rt.done) return exit_bad_input;  // the loop ended without the pipeline finishing
  if (rt.result.abandoned) {
    // Workers stuck past the grace period still hold the client and sinks: leave without
    // unwinding them (their messages were released and will be redelivered).
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(drain ? exit_bad_input : exit_ok);
  }
  if (rt.result.sink_error) {
    std::cerr << cmd << ": output failed: " << rt.result.sink_error_message << "; " << rt.result.unfinished
              << " message(s) released for redelivery, none of them deleted\n";
    return exit_bad_input;
  }
  if (drain) {
    if (rt.result.receive_error) {
      std::cerr << cmd << ": cannot receive from " << cfg->queue_url << ": " << rt.result.receive_error_message
                << "\n";
      // Permissions, credentials or a wrong queue are configuration problems.
      return is_retryable_failure(rt.result.receive_error) ? exit_bad_input : exit_usage;
    }
    if (rt.result.permanent_failures > 0 || rt.result.unfinished > 0) {
      if (!a.quiet)
        std::cerr << cmd << ": " << rt.result.permanent_failures << " message(s) failed permanently, "
                  << rt.result.unfinished << " left for a retry\n";
      return exit_bad_input;
    }
    return exit_ok;
  }
  return exit_ok;  // run: stopped by a signal, in-flight work finished or released
}

}  // namespace ctsqs::cli
