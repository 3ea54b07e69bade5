// Example: resolve the SQS endpoint of a queue URL, sign a ReceiveMessage request with SigV4, presign an S3 GET.
#include "ctsqs/endpoints.hpp"
#include "ctsqs/sigv4/request_text.hpp"
#include "ctsqs/sigv4/signer.hpp"

#include <chrono>
#include <iostream>

int main() {
  using namespace std::chrono;
  // AWS's documentation example keys; real code gets them from the credentials chain.
  ctsqs::Credentials creds;
  creds.access_key_id = "AKIDEXAMPLE";
  creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

  ctsqs::Diagnostics diag;
  auto queue = ctsqs::parse_queue_url("https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail", &diag);
  if (!queue) {
    std::cerr << diag << "\n";
    return 1;
  }
  // Environment overrides (AWS_ENDPOINT_URL_SQS, ...) come in through an EnvLookup.
  auto endpoint = ctsqs::resolve_sqs_endpoint(*queue, queue->region, ctsqs::AwsEndpointConfig{},
                                              ctsqs::process_environment(), &diag);
  if (!endpoint) {
    std::cerr << diag << "\n";
    return 1;
  }

  ctsqs::HttpRequest req;
  req.method = "POST";
  req.scheme = endpoint->scheme;
  req.host = endpoint->host;
  req.path = endpoint->base_path.empty() ? "/" : endpoint->base_path + "/";
  req.headers = {{"Host", endpoint->host},
                 {"Content-Type", "application/x-amz-json-1.0"},
                 {"X-Amz-Target", "AmazonSQS.ReceiveMessage"}};
  req.body = R"({"QueueUrl":")" + queue->url + R"(","MaxNumberOfMessages":10,"WaitTimeSeconds":20})";

  ctsqs::sigv4::SigningParams params;
  params.region = endpoint->signing_region;
  params.service = endpoint->signing_name;
  params.time = sys_days{year{2024} / 1 / 15} + hours{12};  // time is an input; use system_clock::now()
  auto signed_req = ctsqs::sigv4::sign_request(req, creds, params, &diag);
  if (!signed_req) {
    std::cerr << diag << "\n";
    return 1;
  }
  std::cout << "canonical request:\n" << signed_req->canonical_request << "\n\nsigned request:\n"
            << ctsqs::sigv4::to_request_text(signed_req->request) << "\n\n";

  // A presigned S3 GET, valid for 5 minutes.
  auto s3 = ctsqs::default_endpoint(ctsqs::AwsService::s3, "eu-west-1", false, false).value();
  auto target = ctsqs::s3_object_target(s3, "trail-bucket", "AWSLogs/123456789012/CloudTrail/log.json.gz", false);
  ctsqs::HttpRequest get;
  get.scheme = target.scheme;
  get.host = target.host;
  get.path = target.path;
  ctsqs::sigv4::SigningParams s3params = params;
  s3params.service = "s3";
  s3params.region = "eu-west-1";
  s3params.expires = seconds(300);
  auto url = ctsqs::sigv4::presign_url(get, creds, s3params, &diag);
  if (!url) {
    std::cerr << diag << "\n";
    return 1;
  }
  std::cout << "presigned URL:\n" << *url << "\n";
  return 0;
}
