// The GuardDuty services: `aws_sqs_guard_duty` (findings exported to S3 as JSON lines, and
// findings that EventBridge puts on the queue) and `aws_sqs_guard_duty_kinesis` (EventBridge
// events delivered by Firehose, the finding in `detail`). Both tag
// `cloud.aws.guardduty.findings`.
#include "ctsqs/decode/service_handler.hpp"

#include "handler_common.hpp"

namespace ctsqs {
namespace {

using services::first_member;
using services::has_member;

/// What both GuardDuty services share: options, checks, tags; they differ in layout and claim.
class GuardDutyBase : public services::BuiltinHandler {
 public:
  std::string_view default_routing_template() const override { return "cloud.aws.guardduty.findings"; }

 protected:
  bool by_aws_service() const override { return false; }
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
