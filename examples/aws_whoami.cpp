// Example: embed AwsClient — resolve credentials (chain + optional cross-account role with an
// external id), call STS GetCallerIdentity, and stream an S3 object without holding it whole.
//
//   example_aws_whoami [ROLE_ARN EXTERNAL_ID] [s3://BUCKET/KEY]
//   (AWS_REGION, AWS_ENDPOINT_URL_STS / _S3, AWS_PROFILE, ... are honoured)
#include <ctsqs/aws_client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <string>

namespace asio = boost::asio;

asio::awaitable<void> run(ctsqs::AwsClient& aws, std::string s3_url) {
  ctsqs::Diagnostics diag;
  auto id = co_await ctsqs::async_get_caller_identity(aws, diag);
  if (!id) {
    std::cerr << "GetCallerIdentity failed: " << diag << "\n";
    co_return;
  }
  std::cout << id->arn << " (account " << id->account << ") via " << aws.credentials().describe() << "\n";
  if (s3_url.rfind("s3://", 0) != 0) co_return;

  // Stream s3://bucket/key in chunks: the byte count is all we keep.
  const std::string rest = s3_url.substr(5);
  const std::string bucket = rest.substr(0, rest.find('/'));
  const std::string key = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
  auto ep = aws.endpoint(ctsqs::AwsService::s3, {}, diag);
  if (!ep) {
    std::cerr << diag << "\n";
    co_return;
  }
  auto target = ctsqs::s3_object_target(*ep, bucket, key, aws.endpoint_config().s3_force_path_style);
  ctsqs::HttpRequest get;
  get.scheme = target.scheme;
  get.host = target.host;
  get.path = target.path;
  std::uint64_t bytes = 0;
  ctsqs::transport::BodyChunkHandler count = [&bytes](std::span<const std::byte> chunk) -> asio::awaitable<ctsqs::result<void>> {
    bytes += chunk.size();
    co_return ctsqs::result<void>{};
  };
  ctsqs::CallOptions opts;
  opts.operation = "GetObject";
  auto resp = co_await aws.async_call_streaming("s3", get, opts, count, diag);
  if (!resp) std::cerr << "GetObject failed: " << diag << "\n";
  else std::cout << s3_url << ": " << bytes << " bytes streamed\n";
}

int main(int argc, char** argv) {
  ctsqs::AwsClientOptions options;
  options.env = ctsqs::process_environment();
  std::string s3_url;
  int i = 1;
  if (argc > 2 && std::string(argv[1]).rfind("arn:", 0) == 0) {
    options.credentials.cross_account_role = argv[1];
    options.credentials.external_id = argv[2];
    i = 3;
  }
  if (i < argc) s3_url = argv[i];
  asio::io_context io;
  try {
    ctsqs::AwsClient aws(io.get_executor(), options);  // one per process: it owns the connection pool
    asio::co_spawn(io, run(aws, s3_url), asio::detached);
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "configuration error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
