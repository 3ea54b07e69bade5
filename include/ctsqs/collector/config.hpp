// CollectorConfig: the collector file (Devo's SQS collector template plus the `ctsqs` section),
// its parser, validation and a redacted summary.
#pragma once

#include "ctsqs/aws/config.hpp"
#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/collector/settings.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/sink/format.hpp"
#include "ctsqs/collector/metrics.hpp"
#include "ctsqs/collector/notification.hpp"
#include "ctsqs/decode/service_handler.hpp"
#include "ctsqs/sink/devo_http_sink_options.hpp"
#include "ctsqs/sink/devo_sink_options.hpp"
#include "ctsqs/sink/outputs.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// `ctsqs.drain`: when `ctsqs drain` stops.
struct DrainConfig {
  int empty_polls = 2;  ///< `empty_polls`: consecutive empty long polls that end the drain
};

/// `ctsqs.run`: the long-running `ctsqs run`.
struct RunConfig {
  /// `shutdown_grace`: after SIGINT/SIGTERM, time to finish in-flight work before releasing the
  /// rest (visibility 0).
  std::chrono::seconds shutdown_grace = default_shutdown_grace;
};

/// `ctsqs.metrics`: Prometheus text endpoint.
struct MetricsConfig {
  /// `listen`: "127.0.0.1:9464", "[::1]:9464" or "localhost:9464"; unset = no endpoint. Only
  /// loopback addresses are accepted (the endpoint has no authentication).
  std::optional<std::string> listen;
};

/// `ctsqs.integrity`: CloudTrail digest checks in the drain (see ctsqs/integrity/drain_integrity.hpp).
struct IntegrityConfig {
  /// `verify_digests`: each digest file that arrives is verified (signature, chain link) and the
  /// log files it lists compared with the SHA-256 computed while decoding them; off by default
  /// (the hash costs CPU).
  bool verify_digests = false;
  /// `heal`: a log file a verified digest lists and the ledger does not hold (a hole: no
  /// notification brought it) is fetched and delivered after `heal_grace` (see
  /// ctsqs/integrity/drain_heal.hpp). Needs `verify_digests` and a ledger.
  bool heal = false;
  /// `heal_grace`: how long after its digest a hole is looked up again before it is healed (the
  /// notifications of the hour's last files may trail the digest); default 10 minutes.
  std::chrono::seconds heal_grace{600};
};

/// `ctsqs.decoder`: caps against gzip bombs and giant records; unset = the decoder's defaults
/// (DecoderOptions: 4 GiB per object, 16 MiB per record).
struct DecoderLimits {
  std::optional<std::uint64_t> max_object_bytes;  ///< `max_object_bytes`: uncompressed size of one object
  std::optional<std::uint64_t> max_record_bytes;  ///< `max_record_bytes`: size of one record
};

/// DecoderOptions with the configured caps applied over `base` (which says what to build).
DecoderOptions apply(const DecoderLimits& limits, DecoderOptions base = {});

/// The whole collector file.
///
/// The `inputs.sqs_collector` object is Devo's Cloud Collector template, accepted as users paste
/// it; the optional top-level `ctsqs` object holds ctsqs's own settings. Defaults are the member
/// initialisers. Secrets (`credentials.secret_access_key`) must never be printed: use describe().
struct CollectorConfig {
  // ---- inputs.sqs_collector (Devo's template) ----
  std::string id;           ///< `id`: the collector id, carried by the heartbeat (e.g. "12345")
  bool enabled = true;      ///< `enabled`: false = the collector refuses to run
  std::string queue_url;    ///< `base_url`: the SQS queue URL
  /// Whether `base_url` must be set: false for `ctsqs backfill`, which reads a bucket (a
  /// `base_url` that is set is still checked).
  bool queue_required = true;
  /// `region` (or derived from `base_url`) plus the `ctsqs.endpoints` overrides.
  AwsEndpointConfig aws;
  /// `credentials` (keys, base and cross-account role, external id) plus `ctsqs.credentials`
  /// (session name/duration, profile).
  AwsCredentialsConfig credentials;
  /// `ack_messages`: false = never delete messages (testing). A service's own `ack_messages`
  /// (ServiceSettings) can only turn deletion off too: both must be true.
  bool ack_messages = true;
  bool direct_mode = false;        ///< `direct_mode`: message bodies are the events (no S3 fetch)
  bool do_not_send = false;        ///< `do_not_send`: process and count, deliver nothing
  bool compressed_events = false;  ///< `compressed_events`: message bodies are gzip-compressed
  bool debug = false;              ///< `global_overrides.debug`: verbose logging
  /// `services`: one entry per configured service, in file order (at least one).
  std::vector<ServiceSettings> services;

  // ---- ctsqs (our own settings) ----
  // The sections the pipeline shares are its own structs (collector_settings.hpp), so their
  // defaults are written once; build_collector() hands them over as they are.
  OutputsConfig outputs;
  ConcurrencyOptions concurrency;          ///< `ctsqs.concurrency`
  SqsReceiveOptions sqs;                   ///< `ctsqs.sqs` (and the template's `sqs_*` keys)
  PermanentFailurePolicy on_permanent_error;  ///< `ctsqs.on_permanent_error`
  SinkFailurePolicy on_sink_failure;       ///< `ctsqs.on_sink_failure`
  DrainConfig drain;
  RunConfig run;
  /// `ctsqs.heartbeat`: a periodic event carrying the collector id and counts, so an inactivity
  /// alert can watch it (`enabled`, `interval`, `tag`).
  HeartbeatOptions heartbeat;
  MetricsConfig metrics;
  DecoderLimits decoder;
  IntegrityConfig integrity;
  /// `ctsqs.allowed_buckets`, `ctsqs.allowed_accounts`, `ctsqs.allowed_eventbridge_sources`:
  /// opt-in allow-lists; a message announcing anything else is refused (a permanent failure).
  NotificationAllowList allow;
  /// `ctsqs.tags.max_distinct`: distinct tags per process before new ones go to `unknown`;
  /// unset = TagLimits' default (256).
  std::optional<std::size_t> max_distinct_tags;
  /// `ctsqs.ledger` (or `--ledger`): where the delivery ledger lives, a file path (SQLite) or
  /// "dynamodb://TABLE"; unset = no ledger (ledger/ledger.hpp).
  std::optional<std::string> ledger;
  /// `ctsqs.ledger_retention`: how long ledger records are kept (default 35 days).
  std::chrono::seconds ledger_retention{35 * 24 * 3600};

  // ---- provenance ----
  std::string source_name;              ///< file name (or label) the config was read from
  std::vector<ConfigWarning> warnings;  ///< unknown keys and ignored options, with JSON paths

  /// A code-first configuration, no collector file needed: the collector of `queue_url` for one
  /// `service` (a registry name such as "aws_sqs_cloudtrail", with its handler's default
  /// settings, as `"services": {"<service>": {}}` gives them), every other setting at the
  /// file's defaults. The region comes from the queue URL (set `aws.region` for a URL that
  /// names none); credentials from the AWS chain (environment, profile, container or instance
  /// role); id "ctsqs"; heartbeat off; no output of its own, so AssemblyOptions::extra_sinks are
  /// the outputs. Change any member before build_collector(). An unknown service is reported by
  /// validate() and build_collector(). `registry`: nullptr = ServiceHandlerRegistry::builtin().
  static CollectorConfig for_queue(std::string queue_url, std::string_view service = "aws_sqs_cloudtrail",
                                   const ServiceHandlerRegistry* registry = nullptr);
};

/// Options of parse_collector_config / load_collector_config.
struct ConfigParseOptions {
  /// Run validate() after parsing (default). Turn off to apply overrides (CLI flags,
  /// environment) first and call validate() yourself.
  bool validate = true;
  /// Registry resolving `services` keys; nullptr = ServiceHandlerRegistry::builtin().
  const ServiceHandlerRegistry* registry = nullptr;
};

/// Parses a collector file from memory. `source_name` labels errors ("collector.json").
///
/// Errors (client_errc::invalid_argument) fill `diag.message` as
/// "<source>: <json.path>: <what was expected>" (JSON syntax errors: "<source>:<line>:<col>: ...").
/// Unknown keys do not fail: they land in CollectorConfig::warnings.
result<CollectorConfig> parse_collector_config(std::string_view json, std::string_view source_name,
                                               Diagnostics& diag, const ConfigParseOptions& opts = {});

/// Reads and parses a collector file. A missing/unreadable file (or a directory) is
/// client_errc::io_error; a file over 4 MiB is client_errc::limit_exceeded.
result<CollectorConfig> load_collector_config(const std::filesystem::path& path, Diagnostics& diag,
                                              const ConfigParseOptions& opts = {});

/// One validation problem: a JSON path and what is expected there.
struct ConfigIssue {
  std::string path;     ///< e.g. "inputs.sqs_collector.credentials.aws_cross_account_role"
  std::string message;  ///< e.g. "expected an IAM role ARN arn:aws:iam::<12 digits>:role/<name>"
};

/// Every semantic problem of `config` (placeholders left in, malformed ARN/region/URL, missing
/// fields, inconsistent settings). Empty when the config is good.
/// `registry` resolves the services' handlers for their own checks (nullptr = builtin()).
/// `ledger_given`: the embedder hands the pipeline a Ledger of its own (AssemblyOptions::ledger),
/// so settings that need a ledger (`integrity.heal`) are met without `ctsqs.ledger`.
std::vector<ConfigIssue> validation_issues(const CollectorConfig& config,
                                           const ServiceHandlerRegistry* registry = nullptr,
                                           bool ledger_given = false);

/// validate(): success, or client_errc::invalid_argument with `diag.message` listing every issue
/// ("<source>: <path>: <message>", one per line), followed by the config's warnings
/// ("<source>: warning: <path>: <message>"), since a misspelt key often explains an issue.
result<void> validate(const CollectorConfig& config, Diagnostics& diag,
                      const ServiceHandlerRegistry* registry = nullptr, bool ledger_given = false);

/// A multi-line, human-readable summary for logs: every effective setting, secrets redacted
/// (access key id shortened to its first 4 characters, secret key never shown).
std::string describe(const CollectorConfig& config);

// ---- small checks, public because the CLI validates flags with them too ----

/// A `<...>` placeholder left from a template (the whole value or a part, e.g. "sqs.<REGION>").
bool is_placeholder(std::string_view value) noexcept;
/// `arn:aws[-cn|-us-gov]:iam::<12 digits>:role/<path/name>`.
bool is_valid_role_arn(std::string_view arn) noexcept;
/// An AWS region name of the usual shape `<2 letters>[-<word>]-<word>-<number>` ("us-east-1",
/// "us-gov-west-1", "cn-north-1"): stricter than endpoints.hpp's is_valid_region (any DNS
/// label), to catch "Virginia" or "us-east" typed into the template.
bool is_region_name(std::string_view region) noexcept;

}  // namespace ctsqs
