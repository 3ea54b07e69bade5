// build_collector: a collector file to the parts a Collector runs with (AWS client, SQS source,
// S3 object store, sinks, decoders, options, metrics endpoint), owned by one AssembledCollector.
#include "ctsqs/collector/assembly.hpp"

#include "ctsqs/aws/client.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/integrity/drain_heal.hpp"
#include "ctsqs/integrity/drain_integrity.hpp"
#include "ctsqs/collector/metrics_server.hpp"
#include "ctsqs/collector/object_store.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/decode/service_router.hpp"
#include "ctsqs/sink/format.hpp"
#include "ctsqs/sink/devo_http_sink.hpp"
#include "ctsqs/sink/directory_sink.hpp"
#include "ctsqs/sink/stdout_sink.hpp"
#include "ctsqs/sink/outputs.hpp"
#include "ctsqs/collector/sqs_source.hpp"
#include "ctsqs/decode/tag_router.hpp"
#include "ctsqs/ledger/open_ledger.hpp"

#include "detail/gzip_inflate.hpp"
#include "detail/string_hash.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <signal.h>
#include <unistd.h>

namespace ctsqs {

namespace {

/// Writes every event to each of several sinks; a flush succeeds only when all of them flushed.
class MultiSink final : public Sink {
 public:
  void add(Sink* s) { sinks_.push_back(s); }
  bool empty() const noexcept { return sinks_.empty(); }
  void own(std::unique_ptr<Sink> s) {
    sinks_.push_back(s.get());
    owned_.push_back(std::move(s));
  }
  /// Devo lines of stdout or a directory take their time stamp from `line`: stamped here at
  /// each write, as the Devo sinks stamp theirs (Devo's sender stamps the time of sending).
  void stamp(LineOptions* line) { stamped_.push_back(line); }
  // Every sink gets the event; the last one that failed reports.
  result<void> write(const Event& e, Diagnostics& diag) override {
    if (!stamped_.empty()) {
      const auto now = std::chrono::system_clock::now();
      for (auto* l : stamped_) l->time = now;
    }
    result<void> r;
    for (auto* s : sinks_) {
      Diagnostics d;
      if (auto w = s->write(e, d); !w) r = failed(diag, std::move(d), w.error());
    }
    return r;
  }
  result<void> flush(Diagnostics& diag) override {
    result<void> r;
    for (auto* s : sinks_) {
      Diagnostics d;
      if (auto f = s->flush(d); !f) r = failed(diag, std::move(d), f.error());
    }
    return r;
  }

 private:
  static error_code failed(Diagnostics& diag, Diagnostics d, error_code ec) {
    diag = std::move(d);
    return ec;
  }
  std::vector<Sink*> sinks_;
  std::vector<std::unique_ptr<Sink>> owned_;
  std::vector<LineOptions*> stamped_;
};

/// Delivers nothing (`do_not_send`): every flush "succeeds", so messages are acknowledged.
class NullSink final : public Sink {
 public:
  result<void> write(const Event&, Diagnostics&) override { return {}; }
  result<void> flush(Diagnostics&) override { return {}; }
};

/// Counts events per tag, committing a window's counts only when its flush succeeded.
class CountingSink final : public Sink {
 public:
  explicit CountingSink(Sink& inner) : inner_(inner) {}
  result<void> write(const Event& e, Diagnostics& diag) override {
    auto r = inner_.write(e, diag);
    if (r) {
      auto it = window_.find(std::string_view(e.tag));
      if (it == window_.end()) it = window_.emplace(e.tag, 0).first;
      ++it->second;
    }
    return r;
  }
  result<void> flush(Diagnostics& diag) override {
    auto r = inner_.flush(diag);
    std::lock_guard lk(mu_);
    if (r)
      for (auto& [tag, n] : window_) totals_[tag] += n;
    window_.clear();
    return r;
  }
  std::map<std::string, std::uint64_t> totals() const {
    std::lock_guard lk(mu_);
    return totals_;
  }

 private:
  Sink& inner_;
  // Sink thread only; looked up by every event, so hashed without a copy of the tag.
  std::unordered_map<std::string, std::uint64_t, detail::StringHash, std::equal_to<>> window_;
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> totals_;
};

error_code fail(Diagnostics& diag, std::string message) {
  diag.message = std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

/// What the configured outputs need the decoder to build.
struct SinkNeeds {
  bool record = false;
  bool columns = false;
};

/// The configured outputs (or a NullSink for `do_not_send`) plus the embedder's sinks. A file
/// with no output and no sink of the embedder's writes to stdout (flat); a pipeline that would
/// still have no sink is refused: its flushes would "succeed" and delete every message.
result<void> add_configured_sinks(const CollectorConfig& cfg, const AssemblyOptions& opts, MultiSink& multi,
                                  SinkNeeds& needs, Diagnostics& diag) {
  for (std::size_t i = 0; i < opts.extra_sinks.size(); ++i)
    if (!opts.extra_sinks[i])
      return fail(diag, "AssemblyOptions::extra_sinks[" + std::to_string(i) + "] is null: no output to write to");
  if (cfg.do_not_send) {
    multi.own(std::make_unique<NullSink>());
    needs.columns = true;
    return {};
  }
  OutputsConfig outputs = cfg.outputs;
  if (outputs.empty() && opts.extra_sinks.empty()) outputs.standard_output = StdoutOutputConfig{};
  OutputSinkOptions oo;
  oo.hostname = opts.hostname;
  oo.log = opts.log;
  auto built = make_output_sinks(outputs, oo, diag);
  if (!built) return built.error();
  for (auto& o : *built) {
    const bool devo_lines =
        o.line && ((dynamic_cast<StdoutSink*>(o.sink.get()) && outputs.standard_output &&
                    outputs.standard_output->format == OutputFormat::devo) ||
                   (dynamic_cast<DirectorySink*>(o.sink.get()) && outputs.directory &&
                    outputs.directory->format == OutputFormat::devo));
    if (devo_lines) multi.stamp(o.line);
    needs.record = needs.record || o.needs_record;
    needs.columns = needs.columns || o.needs_columns;
    multi.own(std::move(o.sink));
  }
  for (auto* s : opts.extra_sinks) {
    multi.add(s);
    needs.record = needs.columns = true;
  }
  if (multi.empty()) return fail(diag, "ctsqs.outputs: no output: events would go nowhere");
  return {};
}

CollectorOptions collector_options(const CollectorConfig& cfg, const AssemblyOptions& opts) {
  CollectorOptions co;
  co.collector_id = cfg.id;
  // The file's sections are the pipeline's own settings: handed over whole, nothing re-typed.
  co.concurrency = cfg.concurrency;
  co.receive = cfg.sqs;  // also the SqsSource's: one visibility timeout for receive and extension
  if (opts.retry_backoff_min) co.retry_backoff_min = *opts.retry_backoff_min;
  if (co.retry_backoff_max < co.retry_backoff_min) co.retry_backoff_max = co.retry_backoff_min;
  co.on_sink_failure = cfg.on_sink_failure;
  co.on_permanent_failure = cfg.on_permanent_error;
  // A service's `ack_messages: false` turns deletion off for the whole collector: which service
  // a message belongs to is known only once its objects are read.
  co.ack_messages = cfg.ack_messages && std::all_of(cfg.services.begin(), cfg.services.end(), [](auto& s) {
                      return s.ack_messages.value_or(true);
                    });
  co.drain_empty_polls = opts.drain ? std::max(1, cfg.drain.empty_polls) : 0;
  co.shutdown_grace = cfg.run.shutdown_grace;
  co.release_settle = cfg.sqs.wait_time + std::chrono::seconds(5);
  co.heartbeat = cfg.heartbeat;
  co.log = opts.log;
  return co;
}

}  // namespace

struct AssembledCollector::Impl {
  CollectorConfig config;
  MultiSink multi;
  std::unique_ptr<CountingSink> counting;
  std::unique_ptr<AwsClient> client;
  std::unique_ptr<SqsSource> source;
  std::unique_ptr<MessageQueue> queue;  // from AssemblyOptions::queue_factory
  std::unique_ptr<ObjectStore> store;  // S3, or AssemblyOptions::store_factory's
  std::unique_ptr<Ledger> ledger;  // ctsqs.ledger, when set
  Metrics metrics;
  std::shared_ptr<ServiceRouter> router;
  // ctsqs.integrity.heal: the heal and its decorators of the queue and the store.
  std::shared_ptr<integrity::DrainHeal> heal;
  std::unique_ptr<MessageQueue> heal_queue;
  std::unique_ptr<ObjectStore> heal_store;
  std::unique_ptr<Ledger> heal_ledger;
  std::unique_ptr<Collector> collector;
  std::unique_ptr<MetricsServer> metrics_server;
};

AssembledCollector::AssembledCollector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AssembledCollector::~AssembledCollector() = default;

boost::asio::awaitable<CollectorResult> AssembledCollector::async_run() {
  auto r = co_await impl_->collector->async_run();
  if (impl_->heal) co_await impl_->heal->async_close();
  if (impl_->metrics_server) impl_->metrics_server->stop();
  co_return r;
}

void AssembledCollector::request_stop() { impl_->collector->request_stop(); }

boost::asio::any_io_executor AssembledCollector::get_executor() const { return impl_->collector->get_executor(); }
const CollectorConfig& AssembledCollector::config() const noexcept { return impl_->config; }
const Metrics& AssembledCollector::metrics() const noexcept { return impl_->metrics; }
std::map<std::string, std::uint64_t> AssembledCollector::delivered_per_tag() const {
  return impl_->counting->totals();
}
std::optional<integrity::HealSummary> AssembledCollector::heal_summary() const {
  if (!impl_->heal) return std::nullopt;
  return impl_->heal->summary();
}
std::vector<ServiceCounts> AssembledCollector::per_service() const { return impl_->router->counts(); }
std::string AssembledCollector::sqs_endpoint() const { return impl_->source ? impl_->source->endpoint() : ""; }
AwsClient& AssembledCollector::aws_client() noexcept { return *impl_->client; }

result<std::unique_ptr<AwsClient>> make_aws_client(const CollectorConfig& cfg, boost::asio::any_io_executor executor,
                                                   std::function<void(std::string_view line)> log, Diagnostics& diag) {
  AssemblyOptions opts;
  opts.log = std::move(log);
  return make_aws_client(cfg, std::move(executor), opts, diag);
}

result<std::unique_ptr<AwsClient>> make_aws_client(const CollectorConfig& cfg, boost::asio::any_io_executor executor,
                                                   const AssemblyOptions& opts, Diagnostics& diag) {
  AwsClientOptions ao;
  ao.credentials = cfg.credentials;
  ao.endpoints = cfg.aws;
  ao.env = opts.env ? opts.env : process_environment();
  ao.read_file = opts.read_file;
  ao.credentials_provider = opts.credentials_provider;
  ao.log = opts.log;
  return AwsClient::create(std::move(executor), std::move(ao), diag);
}

CollectorResult run_until_signal(boost::asio::io_context& ioc, AssembledCollector& collector) {
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&collector](const error_code& ec, int) {
    if (!ec) collector.request_stop();
  });
  CollectorResult result;
  boost::asio::co_spawn(
      ioc,
      [](AssembledCollector* c, CollectorResult* out, boost::asio::signal_set* sigs,
         boost::asio::io_context* io) -> boost::asio::awaitable<void> {
        *out = co_await c->async_run();
        sigs->cancel();
        io->stop();  // abandoned workers (grace period over) never complete
      }(&collector, &result, &signals, &ioc),
      boost::asio::detached);
  ioc.run();
  return result;
}
std::optional<unsigned short> AssembledCollector::metrics_port() const {
  if (!impl_->metrics_server) return std::nullopt;
  return impl_->metrics_server->port();
}

result<std::unique_ptr<AssembledCollector>> build_collector(CollectorConfig config,
                                                            boost::asio::any_io_executor executor,
                                                            const AssemblyOptions& options, Diagnostics& diag) {
  AssemblyOptions opts = options;
  if (!opts.log) opts.log = [](std::string_view line) { std::cerr << line << '\n'; };
  const ServiceHandlerRegistry& registry = opts.registry ? *opts.registry : ServiceHandlerRegistry::builtin();
  if (auto v = validate(config, diag, &registry, opts.ledger != nullptr); !v) {
    diag.message = "invalid configuration:\n" + diag.message;
    return v.error();
  }
  for (auto& w : config.warnings) opts.log("ctsqs: warning: " + w.path + ": " + w.message);
  if (!config.enabled) return fail(diag, "inputs.sqs_collector.enabled is false: nothing to do");
  if (config.direct_mode || config.compressed_events)
    return fail(diag, std::string("inputs.sqs_collector.") +
                          (config.direct_mode ? "direct_mode" : "compressed_events") +
                          " is not supported: ctsqs collects CloudTrail files announced through S3 notifications");
  std::vector<ConfiguredService> services;
  for (const auto& service : config.services) {
    auto handler = registry.find(service.name);
    if (!handler) return fail(diag, "unknown service " + service.name + "; known: " + registry.describe_known());
    services.push_back({std::move(handler), service});
  }

  auto impl = std::make_unique<AssembledCollector::Impl>();
  impl->config = std::move(config);
  const CollectorConfig& cfg = impl->config;
  SinkNeeds needs;
  if (auto s = add_configured_sinks(cfg, opts, impl->multi, needs, diag); !s) return s.error();
  impl->counting = std::make_unique<CountingSink>(impl->multi);

  auto client = make_aws_client(cfg, executor, opts, diag);
  if (!client) return fail(diag, diag.message);
  impl->client = std::move(*client);
  if (opts.queue_factory) {
    impl->queue = opts.queue_factory(*impl->client);
    if (!impl->queue) return fail(diag, "AssemblyOptions::queue_factory returned no queue");
  } else {
    SqsSourceOptions so;
    so.queue_url = cfg.queue_url;
    so.receive = cfg.sqs;
    auto source = SqsSource::create(*impl->client, so, diag);
    if (!source) return fail(diag, diag.message);
    impl->source = std::move(*source);
  }
  MessageQueue& queue = impl->queue ? *impl->queue : static_cast<MessageQueue&>(*impl->source);
  if (opts.store_factory) {
    impl->store = opts.store_factory(*impl->client);
    if (!impl->store) return fail(diag, "AssemblyOptions::store_factory returned no store");
  } else {
    S3ObjectStoreOptions s3o;
    s3o.force_path_style = cfg.aws.s3_force_path_style;
    impl->store = std::make_unique<S3ObjectStore>(*impl->client, s3o);
  }

  DecoderOptions dopt;
  dopt.build_record = needs.record;
  dopt.build_columns = needs.columns;
  dopt = apply(cfg.decoder, dopt);
  // Stream every object when the inflater streams as fast as it inflates whole buffers (ISA-L,
  // docs/benchmarks.md), as `ctsqs decode` does: no whole-object buffers per object in flight
  // (with several decode threads as many objects are inflated at once), events handed on chunk
  // by chunk.
  if (gzip::stream_backend() == "isal") dopt.gather_bytes = dopt.whole_buffer_limit = 0;
  // The collector's own tag bounds: another collector in the process keeps its own.
  if (opts.tag_limits) {
    dopt.tag_limits = opts.tag_limits;
  } else {
    dopt.tag_limits = std::make_shared<TagLimits>(TagLimits::default_max_value_length,
                                                  cfg.max_distinct_tags.value_or(TagLimits::default_max_tags));
    // The decoders call it on the collector's decode threads: the line is handed to the executor.
    dopt.tag_limits->log = [executor, log = opts.log](std::string_view line) {
      boost::asio::post(executor, [log, l = std::string(line)] { log(l); });
    };
  }
  auto co = collector_options(cfg, opts);
  if (auto v = validate(co, diag); !v) return v.error();
  if (opts.ledger) {
    co.ledger = opts.ledger;
  } else if (cfg.ledger) {
    auto l = open_ledger(*cfg.ledger, cfg.ledger_retention, impl->client.get(), "ctsqs.ledger", diag);
    if (!l) return l.error();
    impl->ledger = std::move(*l);
    co.ledger = impl->ledger.get();
  }
  // Heals need digests arriving on a queue: not over a queue of the embedder's (backfill and
  // audit --heal read the bucket themselves).
  if (cfg.integrity.verify_digests && cfg.integrity.heal && co.ledger && !opts.queue_factory) {
    integrity::DrainHealOptions ho;
    ho.grace = cfg.integrity.heal_grace;
    ho.collector_id = cfg.id;
    ho.claimant = (cfg.id.empty() ? std::string("ctsqs") : cfg.id) + "@" +
                  (opts.hostname.empty() ? local_host_name("ctsqs") : opts.hostname) + ":" + std::to_string(::getpid());
    ho.log = opts.log;
    impl->heal = std::make_shared<integrity::DrainHeal>(executor, *co.ledger, impl->metrics, ho);
    impl->heal_ledger = impl->heal->wrap(*co.ledger);
    co.ledger = impl->heal_ledger.get();
  }
  if (cfg.integrity.verify_digests) {
    integrity::DrainIntegrityOptions io;
    if (impl->heal)
      io.on_valid_digest = [heal = std::weak_ptr<integrity::DrainHeal>(impl->heal)](integrity::VerifiedDigest d) {
        if (auto h = heal.lock()) h->digest_verified(std::move(d));
      };
    co.integrity = std::make_shared<integrity::DrainIntegrity>(*impl->client, io);
    if (impl->heal) impl->heal->set_integrity(co.integrity);
  }
  auto router = ServiceRouter::create(std::move(services), dopt, diag);
  if (!router) return router.error();
  impl->router = std::move(*router);
  auto decoders = impl->router->make_factory();
  auto planner = make_notification_planner(cfg.allow);
  MessageQueue* used_queue = &queue;
  ObjectStore* used_store = impl->store.get();
  if (impl->heal) {
    impl->heal_queue = impl->heal->wrap(queue);
    impl->heal_store = impl->heal->wrap(*impl->store);
    used_queue = impl->heal_queue.get();
    used_store = impl->heal_store.get();
    decoders = impl->heal->wrap(std::move(decoders));
    planner = impl->heal->wrap(std::move(planner));
  }
  auto collector = Collector::create(executor, *used_queue, *used_store, *impl->counting, std::move(decoders),
                                     std::move(co), impl->metrics, diag, std::move(planner));
  if (!collector) return collector.error();
  impl->collector = std::move(*collector);

  if (cfg.metrics.listen) {
    auto* metrics = &impl->metrics;
    auto ms = MetricsServer::start(
        executor, *cfg.metrics.listen, [metrics, id = cfg.id] { return to_prometheus(metrics->snapshot(), id); },
        diag);
    if (!ms) {
      diag.message = "ctsqs.metrics.listen: " + diag.message;
      return ms.error();
    }
    impl->metrics_server = std::move(*ms);
  }
  return std::make_unique<AssembledCollector>(std::move(impl));
}

}  // namespace ctsqs
