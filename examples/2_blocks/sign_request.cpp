// Example (building block: SigV4): sign requests yourself, for any HTTP client to send. Builds an
// SQS ReceiveMessage for a queue URL with the sans-I/O protocol code, signs it (Authorization
// header) and prints it on the wire; then presigns an S3 GetObject URL, valid for 5 minutes.
//
//   example_sign_request QUEUE_URL BUCKET KEY
//   e.g. example_sign_request https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail
//            my-trail-bucket AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/28/log.json.gz
//
// Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN). Endpoints: the
// queue URL's, and S3 of the queue's region; AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_S3 override
// them as in the AWS SDKs. AwsClient does all of this (and the credentials chain, retries) for
// you: sign by hand only when you send with your own HTTP client.
#include <ctsqs/aws/endpoints.hpp>
#include <ctsqs/aws/s3/protocol.hpp>
#include <ctsqs/aws/sigv4/request_text.hpp>
#include <ctsqs/aws/sigv4/signer.hpp>
#include <ctsqs/aws/sqs/protocol.hpp>

#include <chrono>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " QUEUE_URL BUCKET KEY\n";
    return 2;
  }
  const ctsqs::EnvLookup env = ctsqs::process_environment();
  ctsqs::Credentials creds;
  creds.access_key_id = ctsqs::env_value(env, "AWS_ACCESS_KEY_ID").value_or("");
  creds.secret_access_key = ctsqs::env_value(env, "AWS_SECRET_ACCESS_KEY").value_or("");
  creds.session_token = ctsqs::env_value(env, "AWS_SESSION_TOKEN").value_or("");
  if (creds.empty()) {
    std::cerr << "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n";
    return 2;
  }

  // Where the queue's requests go, and the region they are signed for.
  ctsqs::Diagnostics diag;
  const ctsqs::AwsEndpointConfig config;  // no overrides in code: only the environment's
  auto queue = ctsqs::parse_queue_url(argv[1], diag);
  if (!queue) {
    std::cerr << diag << "\n";
    return 2;
  }
  auto region = ctsqs::resolve_region(config, &*queue, env, diag);  // the URL's, else AWS_REGION
  if (!region) {
    std::cerr << diag << "\n";
    return 2;
  }
  auto sqs_endpoint = ctsqs::resolve_sqs_endpoint(*queue, *region, config, env, diag);
  if (!sqs_endpoint) {
    std::cerr << diag << "\n";
    return 2;
  }

  // The request, built by the sans-I/O SQS protocol code, then signed. Time is an input.
  ctsqs::sqs::ReceiveMessageParams receive;
  receive.endpoint = *sqs_endpoint;
  receive.queue_url = queue->url;
  receive.max_messages = 1;
  auto request = ctsqs::sqs::make_receive_message_request(receive, diag);
  if (!request) {
    std::cerr << diag << "\n";
    return 2;
  }
  ctsqs::sigv4::SigningParams params;
  params.region = *region;
  params.service = sqs_endpoint->signing_name;  // "sqs"
  params.time = std::chrono::system_clock::now();
  auto signed_request = ctsqs::sigv4::sign_request(*request, creds, params, diag);
  if (!signed_request) {
    std::cerr << diag << "\n";
    return 1;
  }
  std::cout << "signed ReceiveMessage (" << sqs_endpoint->url() << "):\n"
            << ctsqs::sigv4::to_request_text(signed_request->request) << "\n";

  // A presigned S3 GetObject: anyone holding the URL may read the object until it expires.
  auto s3_endpoint = ctsqs::resolve_endpoint(ctsqs::AwsService::s3, *region, config, env, diag);
  if (!s3_endpoint) {
    std::cerr << diag << "\n";
    return 2;
  }
  ctsqs::s3::GetObjectParams object;
  object.endpoint = *s3_endpoint;
  object.bucket = argv[2];
  object.key = argv[3];
  auto get = ctsqs::s3::make_get_object_request(object, diag);
  if (!get) {
    std::cerr << diag << "\n";
    return 2;
  }
  params.service = "s3";
  params.expires = std::chrono::minutes(5);
  auto url = ctsqs::sigv4::presign_url(*get, creds, params, diag);
  if (!url) {
    std::cerr << diag << "\n";
    return 1;
  }
  std::cout << "\npresigned GetObject URL:\n" << *url << "\n";
  return 0;
}
