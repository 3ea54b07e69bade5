// Example (building block: parse_notification): what does this SQS message body announce? Reads
// a body (file or stdin): an S3 event, CloudTrail's own notification, EventBridge, each maybe in
// an SNS envelope; prints the objects it names and the S3 GetObject request of each.
//
//   example_read_notification [FILE]
//   e.g. example_read_notification tests/data/notifications/sns-envelope-s3-event.json
//        echo '{"s3Bucket":"b","s3ObjectKey":["AWSLogs/k.json.gz"]}' | example_read_notification
//
// Exit status: 0 parsed (possibly nothing to fetch), 1 not a notification (permanent error).
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/collector/notification.hpp"
#include "ctsqs/aws/s3/protocol.hpp"

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char** argv) {
  std::string body;
  if (argc > 1) {
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
      std::cerr << "cannot open " << argv[1] << "\n";
      return 2;
    }
    body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }

  ctsqs::Diagnostics diag;
  auto n = ctsqs::parse_notification(body, diag);
  if (!n) {
    // Permanent: the same body will never parse; a collector leaves it for the dead-letter queue.
    std::cerr << "not a notification (" << n.error().message() << "): " << diag << "\n";
    return 1;
  }
  std::cout << "format: " << ctsqs::to_string(n->format) << (n->via_sns ? " (in an SNS envelope)" : "") << "\n";
  if (n->is_test_event()) std::cout << "s3:TestEvent: nothing to collect, acknowledge it\n";
  for (const auto& ignored : n->ignored)
    std::cout << "ignored " << ignored.event_name << ": " << ignored.reason << "\n";
  for (const auto& record : n->inline_records) std::cout << "inline CloudTrail record: " << record << "\n";

  for (const auto& object : n->objects) {
    // The bucket's region from the notification picks the S3 endpoint (us-east-1 when unknown;
    // a PermanentRedirect answer then names the right one, see s3::should_retry_in_region).
    const std::string region = object.region.empty() ? "us-east-1" : object.region;
    auto endpoint = ctsqs::default_endpoint(ctsqs::AwsService::s3, region, false, false, diag);
    if (!endpoint) {
      std::cerr << "s3://" << object.bucket << "/" << object.key << ": " << diag << "\n";
      continue;
    }
    ctsqs::s3::GetObjectParams params;
    params.endpoint = *endpoint;
    params.bucket = object.bucket;
    params.key = object.key;
    auto req = ctsqs::s3::make_get_object_request(params, diag);
    if (!req) {
      std::cerr << "s3://" << object.bucket << "/" << object.key << ": " << diag << "\n";
      continue;
    }
    std::cout << "object s3://" << object.bucket << "/" << object.key;
    if (object.size) std::cout << " (" << *object.size << " bytes)";
    std::cout << "\n  GET " << req->url() << "\n";
  }
  return 0;
}
