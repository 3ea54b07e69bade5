// The CloudTrail services: `aws_sqs_cloudtrail` (CloudTrail log files, `{"Records":[...]}`) and
// `aws_sqs_cloudtrail_kinesis` (CloudTrail → CloudWatch Logs → subscription filter → Firehose →
// S3: CloudWatch Logs messages, or records one per line). Both tag
// `cloud.aws.cloudtrail.<service>` and filter by AWS service.
#include "ctsqs/decode/service_handler.hpp"

#include "handler_common.hpp"


namespace ctsqs {
namespace {

using services::first_member;

/// A CloudTrail log file: `{"Records":[` (whitespace allowed between tokens).
bool looks_like_cloudtrail_log(std::string_view head) {
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < head.size() && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) ++i;
  };
  auto expect = [&](std::string_view token) {
    skip_ws();
    if (head.substr(i, token.size()) != token) return false;
    i += token.size();
    return true;
  };
  return expect("{") && expect("\"Records\"") && expect(":") && expect("[");
}

/// What both CloudTrail services share: options, checks, tags; they differ in layout and claim.
class CloudTrailBase : public services::BuiltinHandler {
 public:
  std::string_view default_routing_template() const override { return "cloud.aws.cloudtrail.{service}"; }

 protected:
  bool by_aws_service() const override { return true; }
};

class CloudTrailHandler final : public CloudTrailBase {
 public:
  std::string_view name() const override { return "aws_sqs_cloudtrail"; }
  std::vector<std::string> aliases() const override { return {"cloudtrail"}; }
  std::string_view description() const override {
    return "AWS CloudTrail log files announced through SQS, tagged cloud.aws.cloudtrail.<service>";
  }
  ClaimRule default_claim_rule() const override {
    ClaimRule r;
    r.key_contains = {"/CloudTrail/", "/CloudTrail-Insight/", "/CloudTrail-Digest/"};
    r.event_sources = {"aws.cloudtrail"};
    return r;
  }
  bool recognizes(std::string_view head) const override { return looks_like_cloudtrail_log(head); }

 protected:
  RecordLayout layout() const override { return RecordLayout::records_array; }
};

class CloudTrailKinesisHandler final : public CloudTrailBase {
 public:
  std::string_view name() const override { return "aws_sqs_cloudtrail_kinesis"; }
  std::vector<std::string> aliases() const override { return {"cloudtrail_kinesis"}; }
  std::string_view description() const override {
    return "CloudTrail delivered by Kinesis Data Firehose from a CloudWatch Logs subscription (CloudWatch "
           "Logs messages or records one per line), tagged cloud.aws.cloudtrail.<service>";
  }
  // Firehose keys are the user's choice: no key rule by default (set claim_key_prefixes).
  ClaimRule default_claim_rule() const override { return {}; }
  /// A CloudWatch Logs message from a log group (`{"messageType":...`, `{"owner":...`), or a
  /// CloudTrail record on its own line (`{"eventVersion":...`).
  bool recognizes(std::string_view head) const override {
    const auto k = first_member(head);
    return k == "messageType" || k == "owner" || k == "logGroup" || k == "eventVersion";
  }

 protected:
  RecordLayout layout() const override { return RecordLayout::cloudwatch_logs; }
};

}  // namespace

std::shared_ptr<const ServiceHandler> make_cloudtrail_service_handler() {
  return std::make_shared<const CloudTrailHandler>();
}

std::shared_ptr<const ServiceHandler> make_cloudtrail_kinesis_service_handler() {
  return std::make_shared<const CloudTrailKinesisHandler>();
}

}  // namespace ctsqs
