// Unit tests of parse_notification over our fixtures (tests/data/notifications) and the shared real samples.
#include "ctsqs/collector/notification.hpp"

#include "catch.hpp"
#include "test_paths.hpp"
#include "unit/catch_result.hpp"

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

using namespace ctsqs;

namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string fixture(const std::string& name) { return read(test::data_dir() / "notifications" / name); }

}  // namespace

TEST_CASE("S3 event: ObjectCreated records become objects, others are ignored, keys decoded", "[notification]") {
  Diagnostics diag;
  auto n = parse_notification(fixture("s3-event-two-created-one-removed.json"), diag);
  INFO(diag);
  REQUIRE(n.has_value());
  CHECK(n->format == NotificationFormat::s3_event);
  CHECK_FALSE(n->via_sns);
  REQUIRE(n->objects.size() == 2);
  CHECK(n->objects[0].bucket == "ct-logs");
  CHECK(n->objects[0].key ==
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/01/15/111122223333_CloudTrail_eu-west-1_20240115T1200Z_AbCdEf012345.json.gz");
  CHECK(n->objects[0].region == "eu-west-1");
  CHECK(n->objects[0].size == 1234u);
  CHECK(n->objects[0].etag == "0123456789abcdef0123456789abcdef");
  CHECK(n->objects[0].event_name == "ObjectCreated:Put");
  // '+' is a space, %2B a plus, %3D '=', %C3%A9 UTF-8 'é'.
  CHECK(n->objects[1].key == "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/01/15/odd name + plus=sign\xC3\xA9.json.gz");
  CHECK(n->objects[1].bucket == "ct.logs.with.dots");
  CHECK(n->objects[1].region == "ap-southeast-2");
  CHECK(n->objects[1].size == 987654321012u);
  REQUIRE(n->ignored.size() == 1);
  CHECK(n->ignored[0].event_name == "ObjectRemoved:Delete");
  CHECK(n->ignored[0].reason.find("ObjectCreated") != std::string::npos);
}

TEST_CASE("S3 event with only removals is empty but valid", "[notification]") {
  auto n = parse_notification(fixture("s3-event-removed-only.json"));
  REQUIRE(n.has_value());
  CHECK(n->empty());
  CHECK(n->ignored.size() == 1);
}

TEST_CASE("s3:TestEvent is recognised directly and inside SNS", "[notification]") {
  auto direct = parse_notification(fixture("s3-test-event.json"));
  REQUIRE(direct.has_value());
  CHECK(direct->is_test_event());
  CHECK(direct->empty());
  auto wrapped = parse_notification(fixture("sns-envelope-s3-test-event.json"));
  REQUIRE(wrapped.has_value());
  CHECK(wrapped->is_test_event());
  CHECK(wrapped->via_sns);
}

TEST_CASE("SNS envelope is unwrapped, the S3 key inside is decoded", "[notification]") {
  auto n = parse_notification(fixture("sns-envelope-s3-event.json"));
  REQUIRE(n.has_value());
  CHECK(n->via_sns);
  CHECK(n->sns_topic_arn == "arn:aws:sns:eu-west-1:111122223333:ct-topic");
  CHECK(n->sns_message_id == "9b7c0d36-1f6a-4d2e-8f5e-3c2b1a0f9e8d");
  REQUIRE(n->objects.size() == 1);
  CHECK(n->objects[0].key == "AWSLogs/a b+c.json.gz");
}

TEST_CASE("CloudTrail's own SNS notification, raw and in an envelope, keys are not decoded", "[notification]") {
  for (const char* file : {"cloudtrail-sns.json", "sns-envelope-cloudtrail.json"}) {
    INFO(file);
    auto n = parse_notification(fixture(file));
    REQUIRE(n.has_value());
    CHECK(n->format == NotificationFormat::cloudtrail_sns);
    REQUIRE(n->objects.size() == 2);
    CHECK(n->objects[0].bucket == "ct-logs");
    CHECK(n->objects[1].key == "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/01/15/name with space+plus.json.gz");
    CHECK(n->objects[1].region.empty());
  }
  CHECK(parse_notification(fixture("sns-envelope-cloudtrail.json"))->via_sns);
}

TEST_CASE("EventBridge Object Created: key as is, region from the event", "[notification]") {
  auto n = parse_notification(fixture("eventbridge-object-created.json"));
  REQUIRE(n.has_value());
  CHECK(n->format == NotificationFormat::eventbridge_s3);
  REQUIRE(n->objects.size() == 1);
  CHECK(n->objects[0].key == "AWSLogs/111122223333/CloudTrail/eu-central-1/2024/01/15/a b+c.json.gz");
  CHECK(n->objects[0].region == "eu-central-1");
  CHECK(n->objects[0].size == 4096u);
  auto deleted = parse_notification(fixture("eventbridge-object-deleted.json"));
  REQUIRE(deleted.has_value());
  CHECK(deleted->empty());
  REQUIRE(deleted->ignored.size() == 1);
  CHECK(deleted->ignored[0].event_name == "Object Deleted");
}

TEST_CASE("EventBridge AWS API Call via CloudTrail carries the record inline", "[notification]") {
  auto n = parse_notification(fixture("eventbridge-api-call.json"));
  REQUIRE(n.has_value());
  CHECK(n->format == NotificationFormat::eventbridge_cloudtrail);
  CHECK(n->objects.empty());
  REQUIRE(n->inline_records.size() == 1);
  auto rec = boost::json::parse(n->inline_records[0]).as_object();
  CHECK(rec.at("eventName").as_string() == "CreateUser");
  CHECK(rec.at("eventSource").as_string() == "iam.amazonaws.com");
  CHECK(rec.at("eventID").as_string() == "a1b2c3d4-e5f6-4789-9abc-def012345678");
  CHECK(n->inline_source == "aws.cloudtrail");
}

TEST_CASE("EventBridge GuardDuty Finding carries the finding inline, with its source", "[notification]") {
  auto n = parse_notification(fixture("eventbridge-guardduty-finding.json"));
  REQUIRE(n.has_value());
  CHECK(n->format == NotificationFormat::eventbridge_guardduty);
  CHECK(n->inline_source == "aws.guardduty");
  REQUIRE(n->inline_records.size() == 1);
  CHECK(boost::json::parse(n->inline_records[0]).as_object().contains("type"));
  CHECK(to_string(n->format) == "eventbridge_guardduty");
  // Other EventBridge sources stay unrecognised.
  Diagnostics diag;
  auto other = parse_notification(
      R"({"version":"0","id":"1","detail-type":"Security Hub Findings - Imported","source":"aws.securityhub",)"
      R"("account":"123456789012","region":"eu-west-1","detail":{}})",
      diag);
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error() == notification_errc::unrecognised);
  CHECK(diag.message.find("aws.securityhub") != std::string::npos);
}

TEST_CASE("Unrecognised and broken bodies are clear permanent errors quoting the body", "[notification]") {
  struct Case {
    const char* file;
    notification_errc code;
    const char* mentions;
  };
  for (const Case& c : {Case{"not-json.txt", notification_errc::not_json, "This is not JSON"},
                        Case{"unknown-json.json", notification_errc::unrecognised, "hello"},
                        Case{"sns-envelope-text-message.json", notification_errc::not_json, "plain text"},
                        Case{"sns-subscription-confirmation.json", notification_errc::unrecognised, "SubscriptionConfirmation"},
                        Case{"s3-event-bad-escape.json", notification_errc::invalid_field, "Records[0].s3.object.key"},
                        Case{"s3-event-missing-key.json", notification_errc::invalid_field, "Records[0].s3.object.key"}}) {
    INFO(c.file);
    Diagnostics diag;
    auto n = parse_notification(fixture(c.file), diag);
    REQUIRE_FALSE(n.has_value());
    CHECK(n.error() == c.code);
    CHECK(diag.message.find(c.mentions) != std::string::npos);
    CHECK(diag.message.find("body starts") != std::string::npos);
  }
  Diagnostics diag;
  CHECK(parse_notification("", diag).error() == notification_errc::not_json);
  CHECK(parse_notification("[]", diag).error() == notification_errc::unrecognised);
  CHECK(parse_notification(R"({"Records":[]})", diag).error() == notification_errc::invalid_field);
  CHECK(parse_notification(R"({"Records":{}})", diag).error() == notification_errc::invalid_field);
  CHECK(parse_notification(R"({"s3Bucket":"b","s3ObjectKey":[]})", diag).error() == notification_errc::invalid_field);
  CHECK(parse_notification(R"({"s3Bucket":"b","s3ObjectKey":[7]})", diag).error() == notification_errc::invalid_field);
  // The quoted start is bounded and control bytes are escaped.
  std::string long_body(5000, 'x');
  parse_notification(long_body, diag);
  CHECK(diag.message.size() < 400);
}

TEST_CASE("S3 event of any eventVersion with the S3 shape is read", "[notification]") {
  std::string body = fixture("s3-event-two-created-one-removed.json");
  for (const char* version : {"3.0", "2.9", "10.1"}) {
    std::string b = body;
    for (auto at = b.find("\"eventVersion\": \"2.1\""); at != std::string::npos; at = b.find("\"eventVersion\": \"2.1\""))
      b.replace(at, 21, std::string("\"eventVersion\": \"") + version + "\"");
    REQUIRE(b.find(std::string("\"") + version + "\"") != std::string::npos);
    INFO(version);
    Diagnostics diag;
    auto n = parse_notification(b, diag);
    INFO(diag);
    REQUIRE(n.has_value());
    CHECK(n->objects.size() == 2);
    CHECK(n->ignored.size() == 1);
  }
}

TEST_CASE("A record in Records that is not S3's makes the body unrecognised, never ignored", "[notification]") {
  Diagnostics diag;
  auto n = parse_notification(
      R"({"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}},)"
      R"({"eventSource":"aws:sqs","body":"x"}]})",
      diag);
  REQUIRE_FALSE(n.has_value());
  CHECK(n.error() == notification_errc::unrecognised);
  CHECK(diag.message.find("Records[1] is not an S3 event record (eventSource \"aws:sqs\")") != std::string::npos);
}

TEST_CASE("CloudTrail's validation message is a test message, raw, in an envelope, and through SQS", "[notification]") {
  Diagnostics diag;
  auto raw = parse_notification("CloudTrail validation message.", diag);
  REQUIRE(raw.has_value());
  CHECK(raw->format == NotificationFormat::cloudtrail_test_message);
  CHECK(raw->is_test_event());
  CHECK(raw->empty());
  auto wrapped = parse_notification(
      R"({"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-2:111122223333:ct",)"
      R"("Message":"CloudTrail validation message.","Timestamp":"2024-01-15T12:00:00.000Z"})",
      diag);
  REQUIRE(wrapped.has_value());
  CHECK(wrapped->is_test_event());
  CHECK(wrapped->via_sns);
  // Any other plain text is still not a notification.
  CHECK(parse_notification("CloudTrail validation message. Or not.", diag).error() == notification_errc::not_json);
}

TEST_CASE("Errors quote long untrusted field values cut short", "[notification]") {
  const std::string huge(5000, 'Q');
  const std::string sixty_four(64, 'Q');
  for (const std::string& body :
       {R"({"Type":")" + huge + R"(","Message":"{}","TopicArn":"arn:aws:sns:us-east-1:1:t"})",
        R"({"detail-type":")" + huge + R"(","source":"aws.guardduty","detail":{}})",
        R"({"detail-type":"Finding","source":")" + huge + R"(","detail":{}})",
        R"({"Records":[{"eventSource":")" + huge + R"("}]})"}) {
    Diagnostics diag;
    auto n = parse_notification(body, diag);
    REQUIRE_FALSE(n.has_value());
    INFO(diag.message);
    // The field quoted once, 64 bytes and "...", plus the 120-byte start of the body.
    CHECK(diag.message.find(sixty_four + "...\"") != std::string::npos);
    CHECK(diag.message.size() < 400);
  }
}

TEST_CASE("decode_s3_event_key follows S3's encoding", "[notification]") {
  std::string out;
  CHECK(decode_s3_event_key("a+b%2Bc%20d%2Fe", out));
  CHECK(out == "a b+c d/e");
  CHECK(decode_s3_event_key("", out));
  CHECK(out.empty());
  CHECK_FALSE(decode_s3_event_key("abc%", out));
  CHECK_FALSE(decode_s3_event_key("abc%4", out));
  CHECK_FALSE(decode_s3_event_key("abc%4g", out));
}

TEST_CASE("Every shared notification sample parses to its expected outcome", "[notification][shared]") {
  if (!test::has_shared_testdata()) {
    WARN("shared test data absent: skipped");
    return;
  }
  auto root = test::shared_testdata_dir() / "notifications";
  // Expected outcome per sample: format + objects + ignored, or an error.
  struct Expect {
    Expect(std::optional<NotificationFormat> f, std::size_t o = 0, std::size_t i = 0, std::size_t r = 0,
           std::string k = {})
        : format(f), objects(o), ignored(i), inline_records(r), first_key(std::move(k)) {}
    std::optional<NotificationFormat> format;  // nullopt: error
    std::size_t objects, ignored, inline_records;
    std::string first_key;
  };
  using F = NotificationFormat;
  const std::map<std::string, Expect> expected{
      {"s3-event/s3-event-objectcreated-put-v2.1.json", {F::s3_event, 1, 0, 0, "HappyFace.jpg"}},
      {"s3-event/s3-event-glacier-restore-v2.0.json", {F::s3_event, 0, 1, 0, ""}},
      {"s3-event/s3-event-structure-schema-v2.2.json", {F::s3_event, 0, 1, 0, ""}},
      {"s3-event/s3-test-event.json", {F::s3_test_event}},
      {"aws-lambda-go/s3-event.json", {F::s3_event, 1, 0, 0, "Happy Face.jpg"}},
      {"aws-lambda-go/s3-event-with-decoded.json", {F::s3_event, 1, 0, 0, "Happy Face.jpg"}},
      {"aws-lambda-go/s3-glacier-event.json", {F::s3_event, 0, 1}},
      {"aws-lambda-go/s3-intelligenttier-event.json", {F::s3_event, 0, 1}},
      {"aws-lambda-go/s3-lifecycle-event.json", {F::s3_event, 0, 1}},
      {"aws-lambda-go/s3-replication-event.json", {F::s3_event, 0, 1}},
      {"aws-lambda-go/s3-restore-event.json", {F::s3_event, 0, 1}},
      {"aws-lambda-go/sns-event.json", {std::nullopt}},
      {"aws-lambda-go/sqs-event.json", {std::nullopt}},
      {"cloudtrail-sns/cloudtrail-sns-message-multi.json",
       {F::cloudtrail_sns, 3, 0, 0,
        "AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz"}},
      {"cloudtrail-sns/cloudtrail-sns-message-single.json", {F::cloudtrail_sns, 1}},
      {"derived/sqs-body-sns-wrapped-cloudtrail-notification.json", {F::cloudtrail_sns, 3}},
      {"derived/sqs-body-sns-wrapped-s3-event.json", {F::s3_event, 1, 0, 0, "Happy Face.jpg"}},
      {"derived/sqs-body-sns-wrapped-s3-test-event.json", {F::s3_test_event}},
      {"sns/sqs-body-raw-delivery-enabled.txt", {std::nullopt}},
      {"sns/sqs-body-sns-envelope-raw-delivery-disabled.json", {std::nullopt}},
      {"sns/sqs-body-sns-envelope.json", {std::nullopt}},
      {"eventbridge/amazon-s3-userguide/ev-events-L20.json", {F::eventbridge_s3, 1, 0, 0, "example-key"}},
      {"eventbridge/amazon-s3-userguide/ev-events-L54.json", {F::eventbridge_s3, 0, 1}},
      {"eventbridge/amazon-s3-userguide/ev-events-L88.json", {F::eventbridge_s3, 0, 1}},
      {"eventbridge/amazon-s3-userguide/ev-events-L121.json", {F::eventbridge_s3, 0, 1}},
      {"eventbridge/amazon-s3-userguide/batch-ops-examples-event-bridge-cloud-trail-L87.json",
       {F::eventbridge_cloudtrail, 0, 0, 1}},
      {"eventbridge/amazon-s3-userguide/batch-ops-examples-event-bridge-cloud-trail-L126.json",
       {F::eventbridge_cloudtrail, 0, 0, 1}},
      {"eventbridge/aws-kms-developer-guide/kms-events-L22.json", {std::nullopt}},
      {"eventbridge/aws-kms-developer-guide/kms-events-L46.json", {std::nullopt}},
      {"eventbridge/aws-kms-developer-guide/kms-events-L70.json", {std::nullopt}},
  };
  std::size_t checked = 0, total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    auto rel = std::filesystem::relative(entry.path(), root).generic_string();
    INFO(rel);
    Diagnostics diag;
    auto n = parse_notification(read(entry.path()), diag);
    ++total;
    // Every file, notification or not, yields a value or a described error.
    if (!n) CHECK_FALSE(diag.message.empty());
    auto it = expected.find(rel);
    if (it == expected.end()) continue;
    ++checked;
    const Expect& e = it->second;
    INFO(diag);
    if (!e.format) {
      CHECK_FALSE(n.has_value());
      continue;
    }
    REQUIRE(n.has_value());
    CHECK(n->format == *e.format);
    CHECK(n->objects.size() == e.objects);
    CHECK(n->ignored.size() == e.ignored);
    CHECK(n->inline_records.size() == e.inline_records);
    if (!e.first_key.empty() && !n->objects.empty()) CHECK(n->objects[0].key == e.first_key);
  }
  CHECK(checked == expected.size());
  CHECK(total >= checked);

  // A real ObjectCreated record as S3 would send it with its next major eventVersion.
  std::string v3 = read(root / "s3-event/s3-event-objectcreated-put-v2.1.json");
  const auto at = v3.find("\"2.1\"");
  REQUIRE(at != std::string::npos);
  v3.replace(at, 5, "\"3.0\"");
  auto n = parse_notification(v3);
  REQUIRE(n.has_value());
  REQUIRE(n->objects.size() == 1);
  CHECK(n->objects[0].key == "HappyFace.jpg");
}

TEST_CASE("The account of a CloudTrail key, organization trails included", "[notification]") {
  CHECK(cloudtrail_key_account("AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/15/x.json.gz") == "111122223333");
  CHECK(cloudtrail_key_account("prefix/AWSLogs/111122223333/CloudTrail/x.json.gz") == "111122223333");
  CHECK(cloudtrail_key_account("AWSLogs/o-abc123/111122223333/CloudTrail/x.json.gz") == "111122223333");
  CHECK(cloudtrail_key_account("AWSLogs/12345/CloudTrail/x.json.gz").empty());
  CHECK(cloudtrail_key_account("logs/111122223333/x.json.gz").empty());
  CHECK(cloudtrail_key_account("xAWSLogs/111122223333/x").empty());
}

TEST_CASE("Allow-lists refuse buckets, accounts and EventBridge sources not listed, naming them", "[notification]") {
  const auto s3 = parse_notification(fixture("s3-event-two-created-one-removed.json"));
  REQUIRE(s3.has_value());
  Diagnostics diag;
  CHECK(check_allowed(*s3, {}, diag));  // nothing configured: anything goes
  NotificationAllowList buckets;
  buckets.buckets = {"ct-logs"};
  auto r = check_allowed(*s3, buckets, diag);  // the second object is in ct.logs.with.dots
  REQUIRE_FALSE(r);
  CHECK(r.error() == notification_errc::refused);
  CHECK(diag.message.find("bucket \"ct.logs.with.dots\" is not in allowed_buckets") != std::string::npos);
  buckets.buckets.push_back("ct.logs.with.dots");
  CHECK(check_allowed(*s3, buckets, diag));

  NotificationAllowList accounts;
  accounts.accounts = {"111122223333"};
  CHECK(check_allowed(*s3, accounts, diag));
  accounts.accounts = {"999999999999"};
  CHECK_FALSE(check_allowed(*s3, accounts, diag));
  CHECK(diag.message.find("account 111122223333 is not in allowed_accounts") != std::string::npos);

  // EventBridge: the event's account, the record's recipientAccountId, the source.
  const auto api = parse_notification(fixture("eventbridge-api-call.json"));
  REQUIRE(api.has_value());
  CHECK(check_allowed(*api, {}, diag));
  INFO(api->eventbridge_source << " " << api->eventbridge_account << " " << api->record_account);
  NotificationAllowList eb;
  eb.accounts = {api->eventbridge_account};
  CHECK(check_allowed(*api, eb, diag).has_value() == (api->record_account == api->eventbridge_account));
  eb.accounts = {"000000000001"};
  CHECK_FALSE(check_allowed(*api, eb, diag));
  CHECK(diag.message.find("EventBridge account") != std::string::npos);
  NotificationAllowList sources;
  sources.eventbridge_sources = {"aws.kms"};
  CHECK_FALSE(check_allowed(*api, sources, diag));
  CHECK(diag.message.find("allowed_eventbridge_sources") != std::string::npos);
  // Only AWS services emit aws.* sources: a made-up "via CloudTrail" event is refused by default.
  auto forged = parse_notification(
      R"({"detail-type":"AWS API Call via CloudTrail","source":"my.app","account":"111122223333",)"
      R"("detail":{"eventName":"CreateUser","eventSource":"iam.amazonaws.com","recipientAccountId":"111122223333"}})");
  REQUIRE(forged.has_value());
  CHECK_FALSE(check_allowed(*forged, {}, diag));
  CHECK(diag.message.find("EventBridge source \"my.app\" is not an AWS service's") != std::string::npos);

  // GuardDuty findings from EventBridge: the event's account and the finding's accountId.
  const auto gd = parse_notification(fixture("eventbridge-guardduty-finding.json"));
  REQUIRE(gd.has_value());
  CHECK(check_allowed(*gd, {}, diag));
  NotificationAllowList gd_accounts;
  gd_accounts.accounts = {"000000000001"};
  CHECK_FALSE(check_allowed(*gd, gd_accounts, diag));
  CHECK(diag.message.find("EventBridge account") != std::string::npos);
  gd_accounts.accounts = {gd->eventbridge_account, gd->record_account};
  CHECK(check_allowed(*gd, gd_accounts, diag));
  NotificationAllowList gd_sources;
  gd_sources.eventbridge_sources = {"aws.s3"};
  CHECK_FALSE(check_allowed(*gd, gd_sources, diag));
  CHECK(diag.message.find("EventBridge source \"aws.guardduty\"") != std::string::npos);
}
