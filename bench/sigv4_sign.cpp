// Benchmark: SigV4 signing of a typical SQS ReceiveMessage request, with the signing-key cache
// (the default) beside the baseline that derives the key on every request.
#include "ctsqs/aws/sigv4/signer.hpp"
#include "ctsqs/aws/sigv4/signing_key.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  using clock = std::chrono::steady_clock;
  const long n = argc > 1 ? std::atol(argv[1]) : 200000;
  ctsqs::Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                           "FwoGZXIvYXdzEXAMPLETOKEN", std::nullopt, "bench"};
  ctsqs::HttpRequest req;
  req.method = "POST";
  req.host = "sqs.eu-west-1.amazonaws.com";
  req.headers = {{"Host", req.host},
                 {"Content-Type", "application/x-amz-json-1.0"},
                 {"X-Amz-Target", "AmazonSQS.ReceiveMessage"}};
  req.body = R"({"QueueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail",)"
             R"("MaxNumberOfMessages":10,"WaitTimeSeconds":20,"AttributeNames":["All"]})";
  ctsqs::sigv4::SigningParams p;
  p.region = "eu-west-1";
  p.service = "sqs";
  p.time = std::chrono::system_clock::time_point(std::chrono::seconds(1705320000));

  ctsqs::Diagnostics diag;
  auto run = [&](bool cached) {
    std::size_t sink = 0;
    ctsqs::sigv4::SigningKeyCache shared;
    auto t0 = clock::now();
    for (long i = 0; i < n; ++i) {
      ctsqs::sigv4::SigningKeyCache fresh;  // baseline: a cold cache derives the key every time
      p.key_cache = cached ? &shared : &fresh;
      auto s = ctsqs::sigv4::sign_request(req, creds, p, diag);
      sink += s ? s->signature[0] : 0;
    }
    double secs = std::chrono::duration<double>(clock::now() - t0).count();
    std::printf("%-28s %9.0f requests/s  %6.2f us/request  (%zu)\n",
                cached ? "sign_request, cached key" : "baseline: key derived each", n / secs,
                secs * 1e6 / static_cast<double>(n), sink % 10);
    return n / secs;
  };
  double base = run(false);
  double cached = run(true);
  std::printf("cached / baseline: %.2fx\n", cached / base);
  return 0;
}
