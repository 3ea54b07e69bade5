// The GuardDuty services: `aws_sqs_guard_duty` (findings exported to S3 as JSON lines, and
// findings that EventBridge puts on the queue) and `aws_sqs_guard_duty_kinesis` (EventBridge
// events delivered by Firehose, the finding in `detail`). Both tag
// `cloud.aws.guardduty.findings`.
#include "ctsqs/service_handler.hpp"

#include "handler_common.hpp"

#include <stdexcept>

namespace ctsqs {
namespace {

using services::first_member;
using services::has_member;

class GuardDutyBase : public ServiceHandler {
 public:
  std::string_view default_routing_template() const override { return "cloud.aws.guardduty.findings"; }

  result<ServiceSettings> parse_options(ServiceOptions& o, Diagnostics& diag) const override {
    ServiceSettings s;
    s.name = std::string(name());
    s.routing_template = std::string(default_routing_template());
    s.claim = default_claim_rule();
    if (auto r = services::parse_common_options(o, s, name(), diag); !r) return r.error();
    return s;
  }

  std::string check(const ServiceSettings& s, std::string_view path) const override {
    auto p = std::string(path);
    // A finding has accountId and region (the {account} and {region} of the template).
    if (auto m = services::check_routing_template(s.routing_template, {"account", "region"}); !m.empty())
      return p + ".routing_template: " + m + " (got \"" + s.routing_template + "\")";
    if (!s.aws_services.empty())
      return p + ": aws_services filters CloudTrail events by AWS service; GuardDuty findings have none";
    Diagnostics d;
    if (auto r = validate(to_tag_router_options(s), &d); !r) return p + ": " + d.message;
    return {};
  }

  std::unique_ptr<PayloadDecoder> make_payload_decoder(const ServiceSettings& s,
                                                       const DecoderOptions& limits) const override {
    if (auto m = check(s, "services." + std::string(name())); !m.empty()) throw std::invalid_argument(m);
    return std::make_unique<services::TaggingPayloadDecoder>(s, limits, layout());
  }
  std::optional<RecordLayout> record_layout() const override { return layout(); }

 protected:
  virtual RecordLayout layout() const = 0;
};

class GuardDutyHandler final : public GuardDutyBase {
 public:
  std::string_view name() const override { return "aws_sqs_guard_duty"; }
  std::vector<std::string> aliases() const override { return {"guardduty", "guard_duty"}; }
  std::string_view description() const override {
    return "Amazon GuardDuty findings exported to S3 (JSON lines) or put on the queue by EventBridge, "
           "tagged cloud.aws.guardduty.findings";
  }
  ClaimRule default_claim_rule() const override {
    ClaimRule r;
    r.key_contains = {"/GuardDuty/"};
    r.event_sources = {"aws.guardduty"};
    return r;
  }
  /// A finding on the first line: `{"schemaVersion":...` with a GuardDuty ARN.
  bool recognizes(std::string_view head) const override {
    return first_member(head) == "schemaVersion" && head.find("\"arn:aws:guardduty:") != head.npos;
  }

 protected:
  RecordLayout layout() const override { return RecordLayout::json_values; }
};

class GuardDutyKinesisHandler final : public GuardDutyBase {
 public:
  std::string_view name() const override { return "aws_sqs_guard_duty_kinesis"; }
  std::vector<std::string> aliases() const override { return {"guardduty_kinesis", "guard_duty_kinesis"}; }
  std::string_view description() const override {
    return "GuardDuty findings delivered by EventBridge to Kinesis Data Firehose (EventBridge events, "
           "concatenated), tagged cloud.aws.guardduty.findings";
  }
  // Firehose keys are the user's choice: no key rule by default (set claim_key_prefixes).
  ClaimRule default_claim_rule() const override { return {}; }
  /// An EventBridge event from aws.guardduty first.
  bool recognizes(std::string_view head) const override {
    const auto k = first_member(head);
    return (k == "version" || k == "id" || k == "detail-type" || k == "source") &&
           has_member(head, "source", "aws.guardduty");
  }

 protected:
  RecordLayout layout() const override { return RecordLayout::eventbridge_events; }
};

}  // namespace

std::shared_ptr<const ServiceHandler> make_guard_duty_service_handler() {
  return std::make_shared<const GuardDutyHandler>();
}

std::shared_ptr<const ServiceHandler> make_guard_duty_kinesis_service_handler() {
  return std::make_shared<const GuardDutyKinesisHandler>();
}

}  // namespace ctsqs
