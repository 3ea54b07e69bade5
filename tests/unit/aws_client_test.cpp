// Unit tests for AwsClient::create: region precedence, configuration errors named by their
// setting. No request is sent; environment and files are injected.
#include "ctsqs/aws/client.hpp"

#include "catch.hpp"
#include "catch_result.hpp"

#include <boost/asio/io_context.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace ctsqs;

namespace {
AwsClientOptions with(std::map<std::string, std::string, std::less<>> env, std::map<std::string, std::string> files) {
  AwsClientOptions o;
  o.env = [env](std::string_view k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  o.read_file = [files](const std::string& p) -> std::optional<std::string> {
    auto it = files.find(p);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
  o.credentials.access_key_id = "AK";
  o.credentials.secret_access_key = "SK";
  return o;
}

/// The client of `o`, which must be valid.
std::unique_ptr<AwsClient> made(boost::asio::io_context& io, AwsClientOptions o) {
  return require_create<AwsClient>(io.get_executor(), std::move(o));
}

/// The message of the error `AwsClient::create` returns for `o` ("" when it succeeds), after
/// checking that an error comes with a message.
std::string refusal(boost::asio::io_context& io, AwsClientOptions o) {
  Diagnostics diag;
  auto c = AwsClient::create(io.get_executor(), std::move(o), diag);
  if (c) return "";
  CHECK(!diag.message.empty());
  return diag.message;
}
}  // namespace

TEST_CASE("AwsClient region: configuration, AWS_REGION, AWS_DEFAULT_REGION, then the profile", "[aws_client]") {
  boost::asio::io_context io;
  const std::map<std::string, std::string> files = {{"/h/.aws/config", "[default]\nregion = ap-south-1\n[profile x]\nregion = sa-east-1\n"}};
  auto o = with({{"HOME", "/h"}, {"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "us-east-2"}}, files);
  o.endpoints.region = "ca-central-1";
  CHECK(made(io, o)->region() == "ca-central-1");
  o.endpoints.region.clear();
  CHECK(made(io, o)->region() == "eu-west-1");
  CHECK(made(io, with({{"HOME", "/h"}, {"AWS_DEFAULT_REGION", "us-east-2"}}, files))->region() == "us-east-2");
  CHECK(made(io, with({{"HOME", "/h"}}, files))->region() == "ap-south-1");
  CHECK(made(io, with({{"HOME", "/h"}, {"AWS_PROFILE", "x"}}, files))->region() == "sa-east-1");
  CHECK(made(io, with({}, {}))->region().empty());
}

TEST_CASE("AwsClient max_attempts: configuration, AWS_MAX_ATTEMPTS, the profile, then 3", "[aws_client]") {
  boost::asio::io_context io;
  const std::map<std::string, std::string> files = {
      {"/h/.aws/config", "[default]\nmax_attempts = 7\nretry_mode = standard\n[profile x]\nretry_mode = adaptive\n"
                         "[profile bad]\nmax_attempts = many\n[profile mode]\nretry_mode = eager\n"}};
  auto attempts = [&io](AwsClientOptions o) { return made(io, std::move(o))->endpoint_config().max_attempts; };
  auto o = with({{"HOME", "/h"}, {"AWS_MAX_ATTEMPTS", "5"}}, files);
  o.endpoints.max_attempts = 2;
  CHECK(attempts(o) == 2);
  CHECK(attempts(with({{"HOME", "/h"}, {"AWS_MAX_ATTEMPTS", "5"}}, files)) == 5);
  CHECK(attempts(with({{"HOME", "/h"}}, files)) == 7);
  CHECK(attempts(with({{"HOME", "/h"}, {"AWS_PROFILE", "x"}}, files)) == 3);  // adaptive is accepted (run as standard)
  CHECK(attempts(with({}, {})) == 3);
  CHECK(refusal(io, with({{"AWS_MAX_ATTEMPTS", "0"}}, {})) == "AWS_MAX_ATTEMPTS '0' is not a whole number of attempts >= 1");
  CHECK(refusal(io, with({{"HOME", "/h"}, {"AWS_PROFILE", "bad"}}, files)) ==
        "max_attempts of profile 'bad' 'many' is not a whole number of attempts >= 1");
  CHECK(refusal(io, with({{"AWS_RETRY_MODE", "fast"}}, {})) == "AWS_RETRY_MODE 'fast' is not one of standard, legacy, adaptive");
  CHECK(refusal(io, with({{"HOME", "/h"}, {"AWS_PROFILE", "mode"}}, files)) ==
        "retry_mode of profile 'mode' 'eager' is not one of standard, legacy, adaptive");
}

TEST_CASE("AwsClient::create: invalid configuration is invalid_argument with the setting named", "[aws_client]") {
  boost::asio::io_context io;
  Diagnostics diag;
  auto o = with({}, {});
  o.endpoints.max_attempts = -1;
  auto c = AwsClient::create(io.get_executor(), o, diag);
  REQUIRE(c.has_error());
  CHECK(c.error() == client_errc::invalid_argument);
  CHECK(diag.message == "max_attempts must be at least 1, got -1");
  o = with({}, {});
  o.credentials.cross_account_role = "not-an-arn";
  c = AwsClient::create(io.get_executor(), o, diag);
  REQUIRE(c.has_error());
  CHECK(c.error() == client_errc::invalid_argument);
  CHECK(diag.message.find("aws_cross_account_role") != std::string::npos);
  o = with({}, {});
  o.endpoints.ca_bundle = "/nonexistent/bundle.pem";
  CHECK(refusal(io, o).find("CA bundle '/nonexistent/bundle.pem' could not be loaded") != std::string::npos);
  o = with({}, {});
  o.http.max_body_bytes = 0;
  CHECK(refusal(io, o) == "max_body_bytes: must be at least 1");
  // A good configuration after a refused one: the client is made and says what it was built with.
  o = with({}, {});
  o.endpoints.region = "eu-north-1";
  o.endpoints.max_attempts = 4;
  c = AwsClient::create(io.get_executor(), o, diag);
  REQUIRE(c);
  CHECK((*c)->region() == "eu-north-1");
  CHECK((*c)->endpoint_config().max_attempts == 4);
  CHECK((*c)->credentials().describe().find("static") != std::string::npos);
}

TEST_CASE("AwsClient: AWS_CA_BUNDLE from the environment is used", "[aws_client]") {
  boost::asio::io_context io;
  auto o = with({{"AWS_CA_BUNDLE", "/nonexistent/env-bundle.pem"}}, {});
  CHECK(refusal(io, o).find("/nonexistent/env-bundle.pem") != std::string::npos);
}

TEST_CASE("AwsClient warns when it is built with TLS verification off, and only then", "[aws_client]") {
  boost::asio::io_context io;
  std::vector<std::string> logged;
  auto o = with({}, {});
  o.endpoints.region = "us-east-1";
  o.log = [&](std::string_view l) { logged.emplace_back(l); };
  auto verified = made(io, o);
  CHECK(logged.empty());
  o.endpoints.verify_tls = false;
  auto unverified = made(io, o);
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].find("warning: TLS certificate verification is OFF for AWS endpoints (endpoints.verify_tls: false)") !=
        std::string::npos);
}

TEST_CASE("AwsClient: a request that cannot be signed fails before anything is sent, saying why", "[aws_client]") {
  boost::asio::io_context io;
  auto o = with({}, {});
  o.endpoints.region = "us-east-1";
  auto client = made(io, o);
  HttpRequest req;
  req.method.clear();  // SigV4 refuses a request without a method
  req.scheme = "http";
  req.host = "127.0.0.1:9";  // never reached: signing fails first
  Diagnostics diag;
  std::optional<error_code> got;
  client->async_call("sqs", req, CallOptions{.operation = "ReceiveMessage"}, diag,
                     [&](error_code ec, HttpResponse) { got = ec; });
  io.run();
  REQUIRE(got);
  CHECK(*got == client_errc::invalid_argument);
  CHECK(diag.message == "sqs ReceiveMessage: signing failed: SigV4: request method is empty");
  CHECK(client->http().connections_opened() == 0);
}
