// Example (building block: AwsClient): resolve credentials the AWS way (environment, ~/.aws,
// instance role; then a cross-account role with an external id), ask STS who they are, and read
// an S3 object through S3ObjectStore, streamed chunk by chunk, never held whole.
//
//   example_aws_whoami [ROLE_ARN EXTERNAL_ID] [s3://BUCKET/KEY]
//   e.g. example_aws_whoami arn:aws:iam::123456789012:role/devo-reader my-external-id
//            s3://my-trail-bucket/AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/28/log.json.gz
//
// AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_STS / _S3 and the other AWS_* variables are honoured.
// Exit status: 0 when every call succeeded, 1 when one failed, 2 on a configuration error.
#include <ctsqs/aws/client.hpp>
#include <ctsqs/collector/object_store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <string>

namespace asio = boost::asio;

namespace {

// Coroutine parameters by value: the caller's arguments may be gone when it resumes.
asio::awaitable<int> whoami(ctsqs::AwsClient& aws, std::string s3_url) {
  ctsqs::Diagnostics diag;
  auto id = co_await ctsqs::async_get_caller_identity(aws, diag);
  if (!id) {
    std::cerr << "GetCallerIdentity failed: " << diag << "\n";
    co_return 1;
  }
  std::cout << id->arn << " (account " << id->account << ") via " << aws.credentials().describe() << "\n";
  if (s3_url.empty()) co_return 0;

  ctsqs::ObjectRef object;  // bucket and key; region empty: the client's
  const std::string rest = s3_url.substr(5);
  object.bucket = rest.substr(0, rest.find('/'));
  object.key = rest.substr(object.bucket.size() + 1);
  ctsqs::S3ObjectStore store(aws);
  std::uint64_t bytes = 0;
  // A pipeline feeds a decoder here; the next chunk is not read before this one is handled.
  ctsqs::ObjectChunkHandler count = [&bytes](std::span<const std::byte> chunk) -> asio::awaitable<ctsqs::result<void>> {
    bytes += chunk.size();
    co_return ctsqs::result<void>{};
  };
  auto fetched = co_await store.async_fetch(object, count, diag);
  if (!fetched) {
    std::cerr << "GetObject failed: " << diag << "\n";
    co_return 1;
  }
  std::cout << s3_url << ": " << bytes << " bytes streamed\n";
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ctsqs::AwsClientOptions options;
  options.env = ctsqs::process_environment();  // unset, the client reads no environment at all
  int next = 1;
  if (argc > 2 && std::string(argv[1]).starts_with("arn:")) {
    options.credentials.cross_account_role = argv[1];
    options.credentials.external_id = argv[2];
    next = 3;
  }
  const std::string s3_url = next < argc ? argv[next] : "";
  if (!s3_url.empty() && (!s3_url.starts_with("s3://") || s3_url.find('/', 5) == std::string::npos)) {
    std::cerr << "not an s3://BUCKET/KEY URL: " << s3_url << "\n";
    return 2;
  }
  asio::io_context io;
  ctsqs::Diagnostics diag;
  // One client per process: it owns the connection pool. A bad setting is an error naming it.
  auto aws = ctsqs::AwsClient::create(io.get_executor(), options, diag);
  if (!aws) {
    std::cerr << "configuration error: " << diag.message << "\n";
    return 2;
  }
  int status = 1;
  asio::co_spawn(io, whoami(**aws, s3_url), [&status](std::exception_ptr e, int s) { status = e ? 1 : s; });
  io.run();
  return status;
}
