// Unit tests for AwsClient construction: region precedence, configuration errors. No request
// is sent; environment and files are injected.
#include "ctsqs/aws/client.hpp"

#include "catch.hpp"
#include "catch_result.hpp"

#include <boost/asio/io_context.hpp>

#include <map>
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
}  // namespace

TEST_CASE("AwsClient region: configuration, AWS_REGION, AWS_DEFAULT_REGION, then the profile", "[aws_client]") {
  boost::asio::io_context io;
  const std::map<std::string, std::string> files = {{"/h/.aws/config", "[default]\nregion = ap-south-1\n[profile x]\nregion = sa-east-1\n"}};
  auto o = with({{"HOME", "/h"}, {"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "us-east-2"}}, files);
  o.endpoints.region = "ca-central-1";
  CHECK(AwsClient(io.get_executor(), o).region() == "ca-central-1");
  o.endpoints.region.clear();
  CHECK(AwsClient(io.get_executor(), o).region() == "eu-west-1");
  CHECK(AwsClient(io.get_executor(), with({{"HOME", "/h"}, {"AWS_DEFAULT_REGION", "us-east-2"}}, files)).region() == "us-east-2");
  CHECK(AwsClient(io.get_executor(), with({{"HOME", "/h"}}, files)).region() == "ap-south-1");
  CHECK(AwsClient(io.get_executor(), with({{"HOME", "/h"}, {"AWS_PROFILE", "x"}}, files)).region() == "sa-east-1");
  CHECK(AwsClient(io.get_executor(), with({}, {})).region().empty());
}

TEST_CASE("AwsClient max_attempts: configuration, AWS_MAX_ATTEMPTS, the profile, then 3", "[aws_client]") {
  boost::asio::io_context io;
  const std::map<std::string, std::string> files = {
      {"/h/.aws/config", "[default]\nmax_attempts = 7\nretry_mode = standard\n[profile x]\nretry_mode = adaptive\n"
                         "[profile bad]\nmax_attempts = many\n[profile mode]\nretry_mode = eager\n"}};
  auto attempts = [&io](AwsClientOptions o) { return AwsClient(io.get_executor(), std::move(o)).endpoint_config().max_attempts; };
  auto o = with({{"HOME", "/h"}, {"AWS_MAX_ATTEMPTS", "5"}}, files);
  o.endpoints.max_attempts = 2;
  CHECK(attempts(o) == 2);
  CHECK(attempts(with({{"HOME", "/h"}, {"AWS_MAX_ATTEMPTS", "5"}}, files)) == 5);
  CHECK(attempts(with({{"HOME", "/h"}}, files)) == 7);
  CHECK(attempts(with({{"HOME", "/h"}, {"AWS_PROFILE", "x"}}, files)) == 3);  // adaptive is accepted (run as standard)
  CHECK(attempts(with({}, {})) == 3);
  CHECK_THROWS_WITH(attempts(with({{"AWS_MAX_ATTEMPTS", "0"}}, {})),
                    Catch::Contains("AWS_MAX_ATTEMPTS '0' is not a whole number of attempts >= 1"));
  CHECK_THROWS_WITH(attempts(with({{"HOME", "/h"}, {"AWS_PROFILE", "bad"}}, files)),
                    Catch::Contains("max_attempts of profile 'bad' 'many'"));
  CHECK_THROWS_WITH(attempts(with({{"AWS_RETRY_MODE", "fast"}}, {})),
                    Catch::Contains("AWS_RETRY_MODE 'fast' is not one of standard, legacy, adaptive"));
  CHECK_THROWS_WITH(attempts(with({{"HOME", "/h"}, {"AWS_PROFILE", "mode"}}, files)),
                    Catch::Contains("retry_mode of profile 'mode' 'eager'"));
}

TEST_CASE("AwsClient: invalid configuration throws with the field named", "[aws_client]") {
  boost::asio::io_context io;
  auto o = with({}, {});
  o.endpoints.max_attempts = -1;
  CHECK_THROWS_WITH(AwsClient(io.get_executor(), o), Catch::Contains("max_attempts"));
  o = with({}, {});
  o.credentials.cross_account_role = "not-an-arn";
  CHECK_THROWS_WITH(AwsClient(io.get_executor(), o), Catch::Contains("aws_cross_account_role"));
  o = with({}, {});
  o.endpoints.ca_bundle = "/nonexistent/bundle.pem";
  CHECK_THROWS_WITH(AwsClient(io.get_executor(), o), Catch::Contains("/nonexistent/bundle.pem"));
}

TEST_CASE("AwsClient: AWS_CA_BUNDLE from the environment is used", "[aws_client]") {
  boost::asio::io_context io;
  auto o = with({{"AWS_CA_BUNDLE", "/nonexistent/env-bundle.pem"}}, {});
  CHECK_THROWS_WITH(AwsClient(io.get_executor(), o), Catch::Contains("/nonexistent/env-bundle.pem"));
}

TEST_CASE("AwsClient warns when it is built with TLS verification off, and only then", "[aws_client]") {
  boost::asio::io_context io;
  std::vector<std::string> logged;
  auto o = with({}, {});
  o.endpoints.region = "us-east-1";
  o.log = [&](std::string_view l) { logged.emplace_back(l); };
  AwsClient verified(io.get_executor(), o);
  CHECK(logged.empty());
  o.endpoints.verify_tls = false;
  AwsClient unverified(io.get_executor(), o);
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].find("warning: TLS certificate verification is OFF for AWS endpoints (endpoints.verify_tls: false)") !=
        std::string::npos);
}
