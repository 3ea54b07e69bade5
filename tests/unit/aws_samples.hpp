// Test helper: samples of the services' formats, written after AWS's documented shapes (a
// GuardDuty sample finding, an EventBridge event, a CloudTrail record, a CloudWatch Logs
// subscription message).
#pragma once

#include <string>
#include <vector>

namespace ctsqs::test::samples {

// A GuardDuty finding shaped like the sample findings GuardDuty generates (trimmed).
inline std::string finding(int i) {
  const std::string n = std::to_string(i);
  return R"({"schemaVersion":"2.0","accountId":"123456789012","region":"eu-west-1","partition":"aws",)"
         R"("id":"f)" + n + R"(","arn":"arn:aws:guardduty:eu-west-1:123456789012:detector/d1/finding/f)" + n + R"(",)"
         R"("type":"Recon:EC2/PortProbeUnprotectedPort","resource":{"resourceType":"Instance",)"
         R"("instanceDetails":{"instanceId":"i-0000000)" + n + R"(","instanceType":"m5.large",)"
         R"("networkInterfaces":[{"privateIpAddress":"10.0.0.)" + n + R"("}],"tags":[{"key":"Name","value":"web"}]}},)"
         R"("service":{"serviceName":"guardduty","detectorId":"d1","action":{"actionType":"AWS_API_CALL",)"
         R"("awsApiCallAction":{"api":"DescribeInstances","serviceName":"ec2.amazonaws.com","callerType":"Remote IP"}},)"
         R"("resourceRole":"TARGET","additionalInfo":{"sample":true,"note":"a \"quoted\" {brace}"},"count":)" + n + R"(},)"
         R"("severity":5.3,"createdAt":"2026-12-03T10:00:00.000Z","title":"Unprotected port probed.","description":"d"})";
}

inline std::string eventbridge(const std::string& detail, int i) {
  return R"({"version":"0","id":"e)" + std::to_string(i) +
         R"(","detail-type":"GuardDuty Finding","source":"aws.guardduty","account":"123456789012",)"
         R"("time":"2026-12-03T10:00:00Z","region":"eu-west-1","resources":[],"detail":)" + detail + "}";
}

inline std::string ct_record(int i) {
  return R"({"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:s)" +
         std::to_string(i) +
         R"("},"eventTime":"2026-12-03T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject",)"
         R"("awsRegion":"eu-west-1","requestParameters":{"Host":"b.s3.amazonaws.com"},)"
         R"("resources":[{"type":"AWS::S3::Object"}],"recipientAccountId":"123456789012"})";
}

// JSON string literal of `text` (escapes quotes and backslashes; the samples have no controls).
inline std::string quoted(const std::string& text) {
  std::string q = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

inline std::string cwl_message(const std::vector<std::string>& messages, std::string type = "DATA_MESSAGE") {
  std::string m = R"({"messageType":")" + type +
                  R"(","owner":"123456789012","logGroup":"aws-cloudtrail-logs","logStream":"123456789012_CloudTrail_eu-west-1",)"
                  R"("subscriptionFilters":["to-firehose"],"logEvents":[)";
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (i) m += ",";
    m += R"({"id":"3654)" + std::to_string(i) + R"(","timestamp":1764756000000,"message":)" + quoted(messages[i]) + "}";
  }
  return m + "]}";
}

}  // namespace ctsqs::test::samples
