// Benchmark: signed STS GetCallerIdentity calls through AwsClient against an endpoint given on
// the command line (e.g. the loopback SigV4 gate), with the keep-alive pool (one client) beside
// the baseline of a new connection per call (the pool emptied before each call), and the cost of
// building a client (TLS context with the system trust store) for reference.
// Usage: bench_aws_call_bench STS_ENDPOINT_URL [CALLS]   (credentials from AWS_ACCESS_KEY_ID/...)
#include "ctsqs/aws/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

namespace {

ctsqs::AwsClientOptions options(const std::string& endpoint) {
  ctsqs::AwsClientOptions o;
  o.endpoints.region = "us-east-1";
  o.endpoints.sts_endpoint = endpoint;
  o.env = ctsqs::process_environment();
  return o;
}

bool call_once(boost::asio::io_context& io, ctsqs::AwsClient& client) {
  ctsqs::Diagnostics diag;
  bool ok = false;
  boost::asio::co_spawn(io, ctsqs::async_get_caller_identity(client, diag),
                        [&ok](std::exception_ptr e, ctsqs::result<ctsqs::sts::CallerIdentity> r) {
                          ok = !e && r.has_value();
                        });
  io.restart();
  io.run();
  if (!ok) std::cerr << "call failed: " << to_string(diag) << "\n";
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " STS_ENDPOINT_URL [CALLS]\n";
    return 2;
  }
  const std::string endpoint = argv[1];
  const int calls = argc > 2 ? std::stoi(argv[2]) : 500;
  boost::asio::io_context io;
  using clock = std::chrono::steady_clock;

  ctsqs::Diagnostics diag;
  auto made = ctsqs::AwsClient::create(io.get_executor(), options(endpoint), diag);
  if (!made) {
    std::cerr << "aws_call_bench: " << diag.message << "\n";
    return 2;
  }
  ctsqs::AwsClient& pooled = **made;
  if (!call_once(io, pooled)) return 1;  // warm-up (and credentials)
  auto t0 = clock::now();
  for (int i = 0; i < calls; ++i)
    if (!call_once(io, pooled)) return 1;
  const double pooled_s = std::chrono::duration<double>(clock::now() - t0).count();

  t0 = clock::now();
  for (int i = 0; i < calls; ++i) {
    pooled.http().close_idle();  // the next call must open a new connection
    if (!call_once(io, pooled)) return 1;
  }
  const double fresh_s = std::chrono::duration<double>(clock::now() - t0).count();

  const int builds = 20;
  t0 = clock::now();
  for (int i = 0; i < builds; ++i)
    if (!ctsqs::AwsClient::create(io.get_executor(), options(endpoint), diag)) return 1;
  const double build_s = std::chrono::duration<double>(clock::now() - t0).count();

  std::printf("calls: %d, connections opened by the pooled client: %zu\n", calls,
              pooled.http().connections_opened());
  std::printf("keep-alive pool:          %8.1f calls/s  %7.3f ms/call\n", calls / pooled_s, 1000 * pooled_s / calls);
  std::printf("baseline (new conn/call): %8.1f calls/s  %7.3f ms/call\n", calls / fresh_s, 1000 * fresh_s / calls);
  std::printf("ratio: %.2fx\n", fresh_s / pooled_s);
  std::printf("building an AwsClient:    %8.3f ms (mean of %d)\n", 1000 * build_s / builds, builds);
  return 0;
}
