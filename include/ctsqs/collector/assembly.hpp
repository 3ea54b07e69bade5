// From a configuration (a collector file, or CollectorConfig::for_queue in code) to a running
// pipeline in one step: build_collector() wires the AWS client, the SQS source, the S3 object
// store, the configured sinks (plus any of the embedder's own), the configured services' decoders
// behind their claim rules (ServiceRouter), the ledger, the Collector and the metrics endpoint.
// `ctsqs run`, `ctsqs drain`, `ctsqs backfill`, `ctsqs audit` and embedders all start here; the
// CLI adds only flags and printing.
#pragma once

#include "ctsqs/collector/collector.hpp"
#include "ctsqs/collector/config.hpp"
#include "ctsqs/aws/credentials/chain.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/detail/completion.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/collector/metrics.hpp"
#include "ctsqs/decode/service_router.hpp"
#include "ctsqs/sink/sink.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::integrity {
struct HealSummary;  // ctsqs/integrity/drain_heal.hpp
}

namespace ctsqs {

class AwsClient;
class CredentialsProvider;
class Ledger;
class ServiceHandlerRegistry;
class TagLimits;

/// What build_collector() needs besides the configuration. Every member is optional: the
/// defaults are what `ctsqs run` uses (the process environment, the real files, the AWS
/// credential chain, the built-in services, the configured outputs and ledger).
struct AssemblyOptions {
  /// Drain mode: stop once the queue stays empty (`drain.empty_polls` long polls in a row).
  bool drain = false;
  /// Override of the minimum retry backoff (default: CollectorOptions' 5 s).
  std::optional<std::chrono::seconds> retry_backoff_min;
  /// Sinks of the embedder's own, written beside the configured outputs: a message is deleted
  /// only once every sink (configured and extra) flushed its events. Not owned; they must
  /// outlive the AssembledCollector. Their lines get the `record` and `columns` of each event.
  /// A file with no output writes to stdout (flat) only when this is empty: the embedder's
  /// sinks are then the outputs. A null entry is refused.
  std::vector<Sink*> extra_sinks;
  /// Host name written into syslog-style lines (empty: gethostname()).
  std::string hostname;
  /// Where the collector's log lines and the configuration's warnings go (default: stderr).
  std::function<void(std::string_view line)> log;
  /// Read from this queue instead of the file's SQS queue (`base_url` is then not needed);
  /// called once with the AWS client the assembly built. `ctsqs backfill` uses it.
  std::function<std::unique_ptr<MessageQueue>(AwsClient& client)> queue_factory;
  /// Fetch the announced objects from this store instead of S3 (a mirror, a cache, objects of
  /// your own); called once with the AWS client the assembly built. Integrity checks, the ledger
  /// and heals apply to what it returns as they do to S3's objects.
  std::function<std::unique_ptr<ObjectStore>(AwsClient& client)> store_factory;
  /// Resolves the configured services' handlers (third-party services: a registry of your own,
  /// also given to parse_collector_config); nullptr = ServiceHandlerRegistry::builtin().
  const ServiceHandlerRegistry* registry = nullptr;
  /// Environment lookup of the AWS client (AWS_*, proxies, endpoint URLs); unset = the process
  /// environment (process_environment()). environment_from() makes one from a map.
  EnvLookup env;
  /// Reads the shared config/credentials files and token files; unset = the real files.
  FileReader read_file;
  /// Credentials of your own instead of the chain (and roles) the configuration describes.
  std::shared_ptr<CredentialsProvider> credentials_provider;
  /// A delivery ledger of your own instead of the one `ctsqs.ledger` names; not owned, it must
  /// outlive the AssembledCollector.
  Ledger* ledger = nullptr;
  /// Tag bounds to use (shared with other collectors or decoders of yours); unset = the
  /// collector's own, from `ctsqs.tags.max_distinct`.
  std::shared_ptr<TagLimits> tag_limits;
};

/// The AWS client of a collector file: its credentials (roles, external id), endpoints and
/// region, the process environment (AWS_*, proxies); warnings to `log` (default stderr).
/// Fails as AwsClient::create does, `diag.message` naming the setting.
result<std::unique_ptr<AwsClient>> make_aws_client(const CollectorConfig& config,
                                                   boost::asio::any_io_executor executor,
                                                   std::function<void(std::string_view line)> log,
                                                   Diagnostics& diag);

/// The same with the environment, file reader and credentials provider of `options` (each
/// unset: the process's own, as above); warnings to `options.log` (default stderr).
result<std::unique_ptr<AwsClient>> make_aws_client(const CollectorConfig& config,
                                                   boost::asio::any_io_executor executor,
                                                   const AssemblyOptions& options, Diagnostics& diag);

/// A collector built from its file, owning every part it runs with. Runs on the executor it
/// was built with (a single-threaded io_context); destroy it only after async_run() completed.
class AssembledCollector {
 public:
  ~AssembledCollector();
  AssembledCollector(const AssembledCollector&) = delete;
  AssembledCollector& operator=(const AssembledCollector&) = delete;

  /// Runs the pipeline; closes the metrics endpoint when it ends. Completes with
  /// `void(error_code, CollectorResult)` through any completion token; the error code and
  /// cancellation (terminal/partial: request_stop() with the file's `shutdown_grace`; total:
  /// ignored) are Collector::async_run(token)'s.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(error_code, CollectorResult)) CompletionToken>
  auto async_run(CompletionToken&& token) {
    return detail::initiate_erased<CollectorResult>(
        std::forward<CompletionToken>(token),
        [this](completion_handler<CollectorResult> handler) { launch_run(std::move(handler)); });
  }
  /// The coroutine form (the result alone, stopped by request_stop() only).
  boost::asio::awaitable<CollectorResult> async_run();
  /// The executor the operation runs on (the one it was built with).
  boost::asio::any_io_executor get_executor() const;
  /// See Collector::request_stop(). Thread-safe.
  void request_stop();

  const CollectorConfig& config() const noexcept;
  /// Counters for progress lines, the summary and the metrics endpoint.
  const Metrics& metrics() const noexcept;
  /// Events delivered per tag: counted per sink flush window, only when the flush succeeded.
  std::map<std::string, std::uint64_t> delivered_per_tag() const;
  /// With `ctsqs.integrity.heal`: what the heals came to (healed, missing evidence, failed,
  /// unfinished), complete once async_run() completed; nullopt without healing.
  std::optional<integrity::HealSummary> heal_summary() const;
  /// Objects and events decoded per configured service (several services: by claim rule).
  std::vector<ServiceCounts> per_service() const;
  /// The SQS endpoint requests go to (scheme://host[:port]); "" with a `queue_factory` queue.
  std::string sqs_endpoint() const;
  /// The AWS client everything runs with.
  AwsClient& aws_client() noexcept;
  /// The metrics endpoint's bound port, when `metrics.listen` is set.
  std::optional<unsigned short> metrics_port() const;

  struct Impl;
  explicit AssembledCollector(std::unique_ptr<Impl> impl);

 private:
  void launch_run(completion_handler<CollectorResult> handler);

  std::unique_ptr<Impl> impl_;
};

/// Validates `config` and builds its collector on `executor`. Errors are
/// client_errc::invalid_argument (or the sink's/metrics endpoint's own) with `diag.message`
/// naming the setting: an invalid configuration, `enabled: false`, `direct_mode`/`compressed_events`
/// (not supported), an unknown service, a null extra sink (a pipeline with no output), a Devo
/// output that cannot be set up, a metrics address
/// that cannot be bound. The configuration's warnings go to `options.log`.
result<std::unique_ptr<AssembledCollector>> build_collector(CollectorConfig config,
                                                            boost::asio::any_io_executor executor,
                                                            const AssemblyOptions& options, Diagnostics& diag);

/// The whole life of a collector in an embedder's main(): runs `collector` on `ioc` until it
/// ends by itself (a drain found the queue empty, the sink gave up) or SIGINT/SIGTERM arrive
/// (then request_stop(): in-flight messages get `run.shutdown_grace`, the rest is released).
/// `ioc` must be the io_context the collector was built on, not running elsewhere; it is
/// stopped on return. When the result says `abandoned`, workers still hold the collector's
/// parts: leave the process (std::_Exit) instead of destroying them.
CollectorResult run_until_signal(boost::asio::io_context& ioc, AssembledCollector& collector);

}  // namespace ctsqs
