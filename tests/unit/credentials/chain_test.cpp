// Unit tests for the default chain's source selection and the template's role wiring.
// The environment and files are injected; nothing here opens a socket (only sources that
// need no network are fetched).
#include "ctsqs/aws/credentials/chain.hpp"

#include "catch.hpp"
#include "../catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <map>

using namespace ctsqs;
namespace asio = boost::asio;

namespace {

struct World {
  asio::io_context io;
  transport::HttpsClient http{io.get_executor()};
  std::map<std::string, std::string, std::less<>> env;
  std::map<std::string, std::string> files;

  CredentialsContext ctx() {
    CredentialsContext c;
    c.executor = io.get_executor();
    c.http = &http;
    c.env = [this](std::string_view k) -> std::optional<std::string> {
      auto it = env.find(k);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    c.read_file = [this](const std::string& p) -> std::optional<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return std::nullopt;
      return it->second;
    };
    c.region = "eu-west-1";
    return c;
  }

  std::pair<result<Credentials>, Diagnostics> get(CredentialsProvider& p) {
    result<Credentials> r = make_error_code(client_errc::cancelled);
    Diagnostics d;
    asio::co_spawn(io, run(&p, &r, &d), asio::detached);
    io.restart();
    io.run();
    return {r, d};
  }
  static asio::awaitable<void> run(CredentialsProvider* p, result<Credentials>* r, Diagnostics* d) {
    *r = co_await p->async_get(*d);
  }
};

}  // namespace

TEST_CASE("chain: environment keys come first", "[chain]") {
  World w;
  w.env = {{"AWS_ACCESS_KEY_ID", "AKENV"}, {"AWS_SECRET_ACCESS_KEY", "SKENV"}, {"AWS_SESSION_TOKEN", "TOK"},
           {"HOME", "/home/u"}};
  w.files["/home/u/.aws/credentials"] = "[default]\naws_access_key_id=AKFILE\naws_secret_access_key=SKFILE\n";
  auto chain = make_default_chain(w.ctx());
  auto [r, d] = w.get(*chain);
  REQUIRE(r);
  CHECK(r->access_key_id == "AKENV");
  CHECK(r->session_token == "TOK");
  CHECK(chain->describe() == "environment");
}

TEST_CASE("chain: the shared files' default profile when the environment has no keys", "[chain]") {
  World w;
  w.env = {{"AWS_ACCESS_KEY_ID", ""}, {"HOME", "/home/u"}};
  w.files["/home/u/.aws/credentials"] = "[default]\naws_access_key_id=AKFILE\naws_secret_access_key=SKFILE\n";
  auto chain = make_default_chain(w.ctx());
  auto [r, d] = w.get(*chain);
  REQUIRE(r);
  CHECK(r->access_key_id == "AKFILE");
  CHECK(chain->describe() == "profile default");
}

TEST_CASE("chain: AWS_PROFILE and the file location variables", "[chain]") {
  World w;
  w.env = {{"AWS_PROFILE", "ops"}, {"AWS_SHARED_CREDENTIALS_FILE", "/etc/creds"}, {"AWS_CONFIG_FILE", "/etc/conf"}};
  w.files["/etc/conf"] = "[profile ops]\nregion = us-west-2\n";
  w.files["/etc/creds"] = "[ops]\naws_access_key_id=AKOPS\naws_secret_access_key=SKOPS\n";
  auto chain = make_default_chain(w.ctx());
  auto [r, d] = w.get(*chain);
  REQUIRE(r);
  CHECK(r->access_key_id == "AKOPS");
}

TEST_CASE("chain: an explicitly named missing profile is an error, not a fall-through", "[chain]") {
  World w;
  w.env = {{"AWS_PROFILE", "nope"}, {"HOME", "/h"}};
  auto chain = make_default_chain(w.ctx());
  auto [r, d] = w.get(*chain);
  REQUIRE(r.has_error());
  CHECK(d.message.find("profile 'nope' not found") != std::string::npos);
}

TEST_CASE("chain: nothing configured and IMDS disabled lists what was tried", "[chain]") {
  World w;
  w.env = {{"AWS_EC2_METADATA_DISABLED", "true"}, {"HOME", "/h"}};
  auto chain = make_default_chain(w.ctx());
  auto [r, d] = w.get(*chain);
  REQUIRE(r.has_error());
  CHECK(d.message.find("no AWS credentials found") != std::string::npos);
  CHECK(d.message.find("environment") != std::string::npos);
  CHECK(d.message.find("web identity") != std::string::npos);
  CHECK(d.message.find("profile default") != std::string::npos);
  CHECK(d.message.find("ECS") != std::string::npos);
  CHECK(d.message.find("AWS_EC2_METADATA_DISABLED") != std::string::npos);
}

TEST_CASE("chain: web identity and ECS are chosen from their variables", "[chain]") {
  World w;
  w.env = {{"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/token"}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/eks"},
           {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds"}};
  auto chain = make_default_chain(w.ctx());
  // Selection happens at the first call; web identity fails to read its token file (no network).
  auto [r, d] = w.get(*chain);
  REQUIRE(r.has_error());
  CHECK(chain->describe() == "web-identity arn:aws:iam::1:role/eks");
  CHECK(d.message.find("/var/token") != std::string::npos);

  World w2;
  w2.env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/creds"},
            {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token-secret"}};
  auto ecs = make_default_chain(w2.ctx());
  auto [r2, d2] = w2.get(*ecs);
  REQUIRE(r2.has_error());
  CHECK(ecs->describe() == "ecs-container");
  // Refused before any connection, naming the variable and the host, never the token.
  CHECK(r2.error() == transport::transport_errc::address_not_allowed);
  CHECK(d2.message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI: host 10.0.0.1:80 resolves to 10.0.0.1") == 0);
  CHECK(d2.message.find("loopback") != std::string::npos);
  CHECK(d2.message.find("container-token-secret") == std::string::npos);
}

TEST_CASE("container credentials over http: the addresses the AWS SDKs allow", "[chain]") {
  using boost::asio::ip::make_address;
  for (const char* ok : {"127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "::ffff:127.0.0.1",
                         "169.254.170.2", "169.254.170.23", "fd00:ec2::23"}) {
    INFO(ok);
    CHECK(is_allowed_container_address(make_address(ok)));
  }
  for (const char* bad : {"10.0.0.1", "203.0.113.9", "169.254.169.254", "169.254.170.3", "0.0.0.0", "::",
                          "fd00:ec2::24", "::ffff:10.0.0.1", "128.0.0.1"}) {
    INFO(bad);
    CHECK_FALSE(is_allowed_container_address(make_address(bad)));
  }
}

TEST_CASE("template roles: static keys, base role, cross-account role with external id", "[chain]") {
  World w;
  AwsCredentialsConfig cfg;
  cfg.access_key_id = "AKCFG";
  cfg.secret_access_key = "SKCFG";
  cfg.base_account_role = "arn:aws:iam::111111111111:role/base";
  cfg.cross_account_role = "arn:aws:iam::222222222222:role/cross";
  cfg.external_id = "ext-123";
  Diagnostics d;
  auto p = make_credentials_provider(cfg, w.ctx(), d);
  REQUIRE(p);
  CHECK((*p)->describe() ==
        "assume-role arn:aws:iam::222222222222:role/cross (with external id) <- "
        "assume-role arn:aws:iam::111111111111:role/base <- static configuration");
  CHECK((*p)->describe().find("ext-123") == std::string::npos);
}

TEST_CASE("template roles: invalid settings name the field", "[chain]") {
  World w;
  Diagnostics d;
  AwsCredentialsConfig half;
  half.access_key_id = "AK";
  CHECK_FALSE(make_credentials_provider(half, w.ctx(), d));
  CHECK(d.message.find("aws_secret_access_key") != std::string::npos);

  AwsCredentialsConfig bad_role;
  bad_role.cross_account_role = "role-name-only";
  CHECK_FALSE(make_credentials_provider(bad_role, w.ctx(), d));
  CHECK(d.message.find("aws_cross_account_role") != std::string::npos);

  AwsCredentialsConfig orphan_ext;
  orphan_ext.external_id = "x1";
  CHECK_FALSE(make_credentials_provider(orphan_ext, w.ctx(), d));
  CHECK(d.message.find("aws_external_id") != std::string::npos);

  AwsCredentialsConfig bad_duration;
  bad_duration.cross_account_role = "arn:aws:iam::1:role/r";
  bad_duration.session_duration = std::chrono::seconds(60);
  CHECK_FALSE(make_credentials_provider(bad_duration, w.ctx(), d));
  CHECK(d.message.find("duration") != std::string::npos);
}

TEST_CASE("container and instance metadata credentials JSON", "[chain]") {
  Diagnostics d;
  auto ok = parse_credentials_json(
      R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIA1","SecretAccessKey":"sk","Token":"tk","Expiration":"2026-11-28T21:00:00Z"})",
      "IMDS", d);
  REQUIRE(ok);
  CHECK(ok->access_key_id == "ASIA1");
  CHECK(ok->session_token == "tk");
  REQUIRE(ok->expiration);
  auto failed = parse_credentials_json(R"({"Code":"AssumeRoleUnauthorizedAccess"})", "IMDS", d);
  REQUIRE(failed.has_error());
  CHECK(d.message == "IMDS: credentials not available (Code AssumeRoleUnauthorizedAccess)");
  CHECK_FALSE(parse_credentials_json("not json", "ECS", d));
  CHECK(d.message == "ECS: response is not a JSON object");
  CHECK_FALSE(parse_credentials_json(R"({"AccessKeyId":"A","SecretAccessKey":"secret-xyz","Expiration":"soon"})", "ECS", d));
  CHECK(d.message == "ECS: unreadable Expiration: not an ISO 8601 UTC timestamp (expected e.g. 2026-01-01T00:00:00Z)");
  CHECK(d.message.find("secret-xyz") == std::string::npos);
  CHECK_FALSE(parse_credentials_json(R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"1969-07-20T20:17:00Z"})", "ECS", d));
  CHECK(d.message == "ECS: unreadable Expiration: a date before 1970 (year 1969)");
  // Far-future (past what system_clock can hold): keys that do not expire.
  auto never = parse_credentials_json(R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"9999-12-31T23:59:59Z"})", "ECS", d);
  REQUIRE(never);
  CHECK_FALSE(never->expiration);
}

TEST_CASE("shared files: locations from the environment, profile name precedence", "[chain]") {
  std::map<std::string, std::string, std::less<>> env = {{"HOME", "/home/u"}};
  auto lookup = [&env](std::string_view k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  std::map<std::string, std::string> files = {
      {"/home/u/.aws/config", "[profile eu]\nregion = eu-west-3\n"},
      {"/etc/aws-config", "[default]\nregion = us-west-2\n"}};
  FileReader reader = [&files](const std::string& p) -> std::optional<std::string> {
    auto it = files.find(p);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
  Diagnostics d;
  auto home = load_shared_config(lookup, reader, d);
  REQUIRE(home);
  CHECK(home->profiles.at("eu").at("region") == "eu-west-3");
  env["AWS_CONFIG_FILE"] = "/etc/aws-config";
  auto moved = load_shared_config(lookup, reader, d);
  REQUIRE(moved);
  CHECK_FALSE(moved->has("eu"));
  CHECK(moved->profiles.at("default").at("region") == "us-west-2");
  files["/etc/aws-config"] = "[default\n";
  CHECK_FALSE(load_shared_config(lookup, reader, d));
  CHECK(d.message == "/etc/aws-config:1: section header without ']'");

  CHECK(effective_profile_name(lookup, "") == "default");
  env["AWS_DEFAULT_PROFILE"] = "legacy";
  CHECK(effective_profile_name(lookup, "") == "legacy");
  env["AWS_PROFILE"] = "ops";
  CHECK(effective_profile_name(lookup, "") == "ops");
  CHECK(effective_profile_name(lookup, "configured") == "configured");
}

TEST_CASE("credentials_from_environment: both keys or none, the token when set, unset and empty alike",
          "[credentials]") {
  std::map<std::string, std::string, std::less<>> vars;
  const EnvLookup env = [&vars](std::string_view k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  CHECK_FALSE(credentials_from_environment(env).has_value());
  vars["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
  CHECK_FALSE(credentials_from_environment(env).has_value());
  vars["AWS_SECRET_ACCESS_KEY"] = "";
  CHECK_FALSE(credentials_from_environment(env).has_value());
  vars["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  auto c = credentials_from_environment(env);
  REQUIRE(c.has_value());
  CHECK(c->access_key_id == "AKIDEXAMPLE");
  CHECK(c->session_token.empty());
  CHECK(c->provider == "environment");
  vars["AWS_SESSION_TOKEN"] = "token";
  CHECK(credentials_from_environment(env)->session_token == "token");
}
