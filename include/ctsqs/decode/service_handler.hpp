// ServiceHandler: one Devo SQS "service" (aws_sqs_cloudtrail, ...) and the registry that finds it
// by name or alias, so new services plug in without touching the pipeline.
#pragma once

#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"
#include "ctsqs/decode/tag_router.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// A problem in the configuration that does not stop it from running (an unknown key, a Devo
/// option ctsqs does not use). `path` is the JSON path, e.g. `inputs.sqs_collector.debug_md5`.
struct ConfigWarning {
  std::string path;     ///< JSON path of the offending member
  std::string message;  ///< what was ignored and why
};

/// Which messages and objects a service takes when several services share one collector. The
/// handler gives the default (ServiceHandler::default_claim_rule); the service's options
/// `claim_key_contains`, `claim_key_prefixes`, `claim_event_sources` and `claim_by_content`
/// replace its parts. Rules are tried in service order; content recognition is the fallback.
struct ClaimRule {
  /// An S3 key containing one of these belongs to the service (e.g. "/CloudTrail/").
  std::vector<std::string> key_contains;
  /// An S3 key starting with one of these belongs to the service (Firehose keys are the user's
  /// choice, so no default).
  std::vector<std::string> key_prefixes;
  /// An EventBridge event (message body) whose `source` is one of these belongs to it.
  std::vector<std::string> event_sources;
  /// When no rule of any service matched an object: whether this service may claim it by its
  /// content (ServiceHandler::recognizes).
  bool by_content = true;
};

/// "key contains /CloudTrail/ or /CloudTrail-Insight/; EventBridge source aws.cloudtrail; content".
std::string describe(const ClaimRule& rule);

/// The settings one configured service resolves to: what the router and decoder of that service
/// need. For CloudTrail these are the `TagRouterOptions` values.
struct ServiceSettings {
  std::string name;              ///< canonical handler name, e.g. "aws_sqs_cloudtrail"
  std::string configured_name;   ///< the key as written in `services` (may be an alias)
  std::string routing_template;  ///< tag template, e.g. "cloud.aws.cloudtrail.{service}"
  /// AWS services to keep (include list, e.g. {"s3","iam"}); empty = every service.
  std::vector<std::string> aws_services;
  /// Per-service `ack_messages` (Devo option); unset = the collector-wide value.
  std::optional<bool> ack_messages;
  /// What this service takes when several share the collector.
  ClaimRule claim;
};

/// The TagRouter configuration of a service: its routing template and AWS service filter.
inline TagRouterOptions to_tag_router_options(const ServiceSettings& s) {
  TagRouterOptions o;
  o.routing_template = s.routing_template;
  o.services = s.aws_services;
  return o;
}

/// Read access to one service's options object (`services.<name>` in the template), handed to
/// ServiceHandler::parse_options so handlers never see the JSON library.
///
/// Every getter returns an empty optional when the key is absent (or JSON null), the value when
/// it has the right type, and an error (client_errc::invalid_argument, with `diag.message` naming
/// the JSON path and what was expected) when it has the wrong type. Keys a handler never asks for
/// become ConfigWarnings ("unknown key").
class ServiceOptions {
 public:
  virtual ~ServiceOptions() = default;

  /// JSON path of the options object, e.g. `inputs.sqs_collector.services.aws_sqs_cloudtrail`.
  virtual const std::string& path() const = 0;
  /// Every key present, in file order.
  virtual std::vector<std::string> keys() const = 0;

  virtual result<std::optional<std::string>> get_string(std::string_view key, Diagnostics& diag) = 0;
  virtual result<std::optional<bool>> get_bool(std::string_view key, Diagnostics& diag) = 0;
  virtual result<std::optional<std::int64_t>> get_int(std::string_view key, Diagnostics& diag) = 0;
  /// An array of strings, or one string holding a comma-separated list.
  virtual result<std::optional<std::vector<std::string>>> get_string_list(std::string_view key,
                                                                          Diagnostics& diag) = 0;
  /// Marks a key as known but not used by ctsqs: it becomes a warning with `why`, not an
  /// "unknown key" warning.
  virtual void ignore(std::string_view key, std::string_view why) = 0;
};

/// Reads the `claim_*` options of a service into `rule` (which holds the handler's default):
/// each option present replaces that part. Errors name the JSON path.
result<void> parse_claim_options(ServiceOptions& options, ClaimRule& rule, Diagnostics& diag);

/// Streams the bytes of one announced object (or one inline notification payload) into tagged
/// events, already filtered by the service's include list. Made by
/// ServiceHandler::make_payload_decoder; reusable object after object (`begin` each time);
/// used from one thread at a time (make one per worker).
class PayloadDecoder {
 public:
  virtual ~PayloadDecoder() = default;
  /// Starts the next object (`object_name`: the S3 key, used for file-type recognition and in
  /// error messages). The default does nothing (for decoders without state between objects).
  /// An empty name means events carried in a message (EventBridge): the payload is then
  /// `{"Records":[...]}` holding the service's events (CloudTrail records, GuardDuty findings).
  virtual void begin(std::string_view object_name) { (void)object_name; }
  /// Feeds the next chunk of the object; complete, tagged, kept events are appended to `out`.
  virtual result<void> feed(std::string_view chunk, std::vector<Event>& out, Diagnostics& diag) = 0;
  /// The object ended; remaining events are appended to `out`. An error means the object was
  /// bad (truncated, corrupt, not this service's format); events already emitted stay valid.
  virtual result<void> finish(std::vector<Event>& out, Diagnostics& diag) = 0;
  /// Events of the current object dropped by the service filter (default: none are).
  virtual std::uint64_t filtered() const noexcept { return 0; }
  /// Events of the current object sent to the `unknown` service by a tag limit (TagLimits).
  virtual std::uint64_t retagged() const noexcept { return 0; }
  /// Why the current object produced no events on purpose (digest files, ...), or `none`.
  virtual SkipReason skipped() const noexcept { return SkipReason::none; }
  /// Asks the decoder to hand the uncompressed content of the objects that follow to
  /// `observer` as it inflates them (on the thread that feeds), so that a caller needing the
  /// content's SHA-256 (digest checks, the ledger) does not inflate a second time. false (the
  /// default): this decoder cannot; the caller reads the bytes by itself.
  virtual bool observe_content(ContentObserver observer) {
    (void)observer;
    return false;
  }
  /// After a successful `finish`: whether the observer saw the whole uncompressed content of
  /// this gzip object (false for objects skipped by key, plain bytes, or none observed).
  virtual bool content_observed() const noexcept { return false; }
};

/// One Devo SQS service: its names, its per-service options and (the extension point the
/// pipeline calls) how its payloads become tagged events.
///
/// Handlers are immutable after registration and may be used from several threads at once.
class ServiceHandler {
 public:
  virtual ~ServiceHandler() = default;

  /// Devo's service name, the key in `services`, e.g. "aws_sqs_cloudtrail".
  virtual std::string_view name() const = 0;
  /// Other accepted keys, e.g. {"cloudtrail"}.
  virtual std::vector<std::string> aliases() const = 0;
  /// One line for `--help`, errors and the README.
  virtual std::string_view description() const = 0;
  /// The routing template used when the options set none, e.g. "cloud.aws.cloudtrail.{service}".
  virtual std::string_view default_routing_template() const = 0;

  /// Parses the service's options object into settings (starting from the defaults). Errors name
  /// the JSON path; unknown keys are reported by the caller as warnings.
  virtual result<ServiceSettings> parse_options(ServiceOptions& options, Diagnostics& diag) const = 0;

  /// Checks settings built by hand (or after CLI overrides): `invalid_argument`, with
  /// `diag.message` naming `path` (then ": " and what is expected), when they are unusable.
  virtual result<void> check(const ServiceSettings& settings, std::string_view path, Diagnostics& diag) const = 0;

  /// What the service takes when several share a collector (before the user's overrides).
  virtual ClaimRule default_claim_rule() const { return {}; }
  /// Content recognition, the claim rules' fallback: whether `head`, the first bytes of an
  /// object after decompression (at most a few KiB, possibly cut mid-value), look like this
  /// service's format.
  virtual bool recognizes(std::string_view head) const {
    (void)head;
    return false;
  }

  /// Where this service's records sit in an object when its payload decoder is a
  /// CloudTrailDecoder (the built-in handlers); empty for handlers with decoders of their own.
  /// Lets tools such as `ctsqs decode --service` run the decoder directly.
  virtual std::optional<RecordLayout> record_layout() const { return std::nullopt; }

  /// Extension point for the pipeline: a decoder turning objects of this service into tagged,
  /// filtered events. `limits` carries the configured caps (`ctsqs.decoder`) and which event
  /// fields the output needs. Fails (`invalid_argument`, diag naming the field) when `settings`
  /// fail check(); the decoder is never null.
  virtual result<std::unique_ptr<PayloadDecoder>> make_payload_decoder(const ServiceSettings& settings,
                                                                       const DecoderOptions& limits,
                                                                       Diagnostics& diag) const = 0;
};

/// Handlers by name and alias. The default registry holds every handler shipped with ctsqs;
/// an embedding application may build its own and add handlers to it.
///
/// Thread safety: add() is not thread-safe; find()/names() are, once registration is done.
class ServiceHandlerRegistry {
 public:
  ServiceHandlerRegistry() = default;

  /// The registry with ctsqs's own handlers: `aws_sqs_cloudtrail`, `aws_sqs_cloudtrail_kinesis`,
  /// `aws_sqs_guard_duty`, `aws_sqs_guard_duty_kinesis`.
  static const ServiceHandlerRegistry& builtin();

  /// Registers a handler under its name and aliases. Fails (invalid_argument, diag names the
  /// clash) when one of them is already taken.
  result<void> add(std::shared_ptr<const ServiceHandler> handler, Diagnostics& diag);

  /// The handler registered under `name_or_alias`, or nullptr.
  std::shared_ptr<const ServiceHandler> find(std::string_view name_or_alias) const;

  /// Canonical names in registration order (for "known services are: ..." messages).
  std::vector<std::string> names() const;

  /// "aws_sqs_cloudtrail (alias cloudtrail)" joined with ", ".
  std::string describe_known() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const ServiceHandler> handler;
  };
  std::vector<std::shared_ptr<const ServiceHandler>> handlers_;
  std::vector<Entry> keys_;
};

/// The CloudTrail handler (`aws_sqs_cloudtrail`, alias `cloudtrail`): CloudTrail log files
/// (RecordLayout::records_array); tags `cloud.aws.cloudtrail.{service}`; options
/// `routing_template`, `aws_services` (include list; also accepted as `services`),
/// `ack_messages`, `claim_*`. Claims keys containing `/CloudTrail/` or `/CloudTrail-Insight/`
/// (and `/CloudTrail-Digest/`, skipped) and EventBridge source `aws.cloudtrail`. Its payload decoder is CloudTrailDecoder followed by
/// a TagRouter.
std::shared_ptr<const ServiceHandler> make_cloudtrail_service_handler();

/// `aws_sqs_cloudtrail_kinesis` (alias `cloudtrail_kinesis`): CloudTrail through CloudWatch Logs
/// and Kinesis Data Firehose (RecordLayout::cloudwatch_logs); options, tags and filter as
/// `aws_sqs_cloudtrail`. No key rule by default (Firehose keys are the user's): set
/// `claim_key_prefixes`, else content recognition decides.
std::shared_ptr<const ServiceHandler> make_cloudtrail_kinesis_service_handler();

/// `aws_sqs_guard_duty` (aliases `guardduty`, `guard_duty`): GuardDuty findings exported to S3
/// (RecordLayout::json_values) and EventBridge "GuardDuty Finding" messages; tags
/// `cloud.aws.guardduty.findings` (placeholders `{account}`, `{region}`); options
/// `routing_template`, `ack_messages`, `claim_*`. Claims keys containing `/GuardDuty/` and
/// EventBridge source `aws.guardduty`.
std::shared_ptr<const ServiceHandler> make_guard_duty_service_handler();

/// `aws_sqs_guard_duty_kinesis` (aliases `guardduty_kinesis`, `guard_duty_kinesis`): GuardDuty
/// findings as EventBridge events delivered by Firehose (RecordLayout::eventbridge_events);
/// options and tags as `aws_sqs_guard_duty`; no key rule by default.
std::shared_ptr<const ServiceHandler> make_guard_duty_kinesis_service_handler();

}  // namespace ctsqs
