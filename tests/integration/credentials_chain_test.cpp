// The credentials chain end to end: each source (environment, shared files with a role and an
// external id, ECS container, EC2 IMDSv2, web identity) yields credentials that the SigV4 gate
// then accepts. Credential endpoints are tests/integration/fake_credential_endpoints.py; the
// environment is injected, never the test process's own.
#include "ctsqs/aws/client.hpp"

#include "ctsqs/aws/credentials/chain.hpp"
#include "ctsqs/aws/credentials/process.hpp"

#include "background_process.hpp"
#include "catch.hpp"
#include "peers.hpp"
#include "unit/catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <map>

using namespace ctsqs;
using namespace ctsqs::test;
namespace asio = boost::asio;

namespace {

// Temporary credentials the fake endpoints issue and the gate knows (GATE_CREDENTIALS).
constexpr const char* kAkid = "ASIAFAKECHAIN0001";
constexpr const char* kSecret = "FakeChainSecretNeverPrinted";
constexpr const char* kToken = "FakeChainSessionToken";
constexpr const char* kEcsAuth = "ecs-auth-token-42";
constexpr const char* kWebToken = "eyJ.web-identity.token";

struct Fixture {
  Peers peers{{.peers = "gate",
               .env = {{"GATE_CREDENTIALS", std::string("test:test,") + kAkid + ":" + kSecret + ":" + kToken},
                       {"GATE_EXTERNAL_ID", "ext-chain"}}}};
  TempDir tmp;
  unsigned short fake_port = free_port();
  Background fake;
  asio::io_context io;

  /// `mode`: "" or "imdsv1" (see fake_credential_endpoints.py).
  explicit Fixture(const std::string& mode = "")
      : fake({"python3", std::string(CTSQS_SOURCE_DIR) + "/tests/integration/fake_credential_endpoints.py",
              std::to_string(fake_port), (tmp.path / "fake.log").string(), kAkid, kSecret, kToken, kEcsAuth,
              kWebToken, mode},
             tmp.path / "fake.out") {
    wait_for_port(fake_port);
  }

  std::string fake_url() const { return "http://127.0.0.1:" + std::to_string(fake_port); }

  /// An AwsClient whose environment is exactly `env` (plus the gate as STS endpoint).
  AwsClientOptions options(std::map<std::string, std::string, std::less<>> env) {
    AwsClientOptions o;
    o.endpoints.region = "eu-west-1";
    o.endpoints.sts_endpoint = peers.gate_endpoint();
    env.emplace("AWS_CONFIG_FILE", (tmp.path / "none").string());
    env.emplace("AWS_SHARED_CREDENTIALS_FILE", (tmp.path / "none").string());
    o.env = [env](std::string_view k) -> std::optional<std::string> {
      auto it = env.find(k);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return o;
  }

  std::pair<result<sts::CallerIdentity>, Diagnostics> whoami(AwsClient& client) {
    Diagnostics diag;
    result<sts::CallerIdentity> out = make_error_code(client_errc::cancelled);
    asio::co_spawn(io, async_get_caller_identity(client, diag),
                   [&out](std::exception_ptr e, result<sts::CallerIdentity> r) {
                     if (e) std::rethrow_exception(e);
                     out = std::move(r);
                   });
    io.restart();
    io.run();
    return {out, diag};
  }

  std::string fake_log() const { return read_file(tmp.path / "fake.log"); }
};

}  // namespace

TEST_CASE("chain: environment credentials are accepted by the gate", "[integration][chain]") {
  Fixture f;
  auto client_made = require_create<AwsClient>(f.io.get_executor(),
                   f.options({{"AWS_ACCESS_KEY_ID", kAkid}, {"AWS_SECRET_ACCESS_KEY", kSecret},
                              {"AWS_SESSION_TOKEN", kToken}, {"AWS_EC2_METADATA_DISABLED", "true"}}));
  AwsClient& client = *client_made;
  auto [id, diag] = f.whoami(client);
  INFO(to_string(diag));
  REQUIRE(id);
  CHECK(id->arn == std::string("arn:aws:iam::000000000000:user/") + kAkid);
  CHECK(client.credentials().describe() == "environment");
}

TEST_CASE("chain: a shared-files profile with role_arn, source_profile and external_id", "[integration][chain]") {
  Fixture f;
  std::ofstream(f.tmp.path / "config") << "[profile collector]\nrole_arn = arn:aws:iam::123456789012:role/from-profile\n"
                                          "source_profile = keys\nexternal_id = ext-chain\nrole_session_name = prof\n";
  std::ofstream(f.tmp.path / "credentials") << "[keys]\naws_access_key_id = test\naws_secret_access_key = test\n";
  auto o = f.options({{"AWS_PROFILE", "collector"}, {"AWS_CONFIG_FILE", (f.tmp.path / "config").string()},
                      {"AWS_SHARED_CREDENTIALS_FILE", (f.tmp.path / "credentials").string()}});
  auto client_made = require_create<AwsClient>(f.io.get_executor(), o);
  AwsClient& client = *client_made;
  auto [id, diag] = f.whoami(client);
  INFO(to_string(diag));
  REQUIRE(id);
  CHECK(id->arn == "arn:aws:sts::000000000000:assumed-role/from-profile/prof");
  CHECK(client.credentials().describe() ==
        "profile collector: assume-role arn:aws:iam::123456789012:role/from-profile (with external id) <- profile keys");
}

TEST_CASE("chain: a profile's credential_process, then a role with an external id on top", "[integration][chain]") {
  Fixture f;
  // The command prints the temporary credentials the gate knows and counts its runs.
  const auto script = f.tmp.path / "get-creds.sh";
  std::ofstream(script) << "#!/bin/sh\necho run >> '" << (f.tmp.path / "runs").string() << "'\n"
                        << "printf '{\"Version\":1,\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"%s\","
                           "\"SessionToken\":\"%s\",\"Expiration\":\"2099-01-01T00:00:00Z\"}' \"$1\" \"$2\" \"$3\"\n";
  std::ofstream(f.tmp.path / "config") << "[profile tool]\ncredential_process = sh " << script.string() << " " << kAkid
                                       << " " << kSecret << " " << kToken << "\n"
                                       << "[profile collector]\nrole_arn = arn:aws:iam::123456789012:role/via-process\n"
                                          "source_profile = tool\nexternal_id = ext-chain\nrole_session_name = proc\n"
                                       << "[profile broken]\ncredential_process = sh -c 'echo sso session expired >&2; exit 1'\n";
  auto opts = [&](const char* profile) {
    return f.options({{"AWS_PROFILE", profile}, {"AWS_CONFIG_FILE", (f.tmp.path / "config").string()}});
  };
  {
    auto client_made = require_create<AwsClient>(f.io.get_executor(), opts("tool"));
    AwsClient& client = *client_made;
    auto [id, diag] = f.whoami(client);
    INFO(to_string(diag));
    REQUIRE(id);
    CHECK(id->arn == std::string("arn:aws:iam::000000000000:user/") + kAkid);
    CHECK(client.credentials().describe() == "profile tool credential_process");
    auto again = f.whoami(client);
    REQUIRE(again.first);
    CHECK(read_file(f.tmp.path / "runs") == "run\n");  // cached until its Expiration
  }
  {
    auto client_made = require_create<AwsClient>(f.io.get_executor(), opts("collector"));
    AwsClient& client = *client_made;
    auto [id, diag] = f.whoami(client);
    INFO(to_string(diag));
    REQUIRE(id);
    CHECK(id->arn == "arn:aws:sts::000000000000:assumed-role/via-process/proc");
    CHECK(client.credentials().describe() ==
          "profile collector: assume-role arn:aws:iam::123456789012:role/via-process (with external id) <- "
          "profile tool credential_process");
  }
  {
    auto client_made = require_create<AwsClient>(f.io.get_executor(), opts("broken"));
    AwsClient& client = *client_made;
    auto [id, diag] = f.whoami(client);
    REQUIRE(id.has_error());
    CHECK(diag.message.find("profile 'broken': credential_process exited with status 1: sso session expired") !=
          std::string::npos);
  }
}

TEST_CASE("chain: a credential_process child inherits no descriptor beyond 0, 1 and 2", "[integration][chain]") {
  asio::io_context io;
  // What a running collector holds: a listening socket (the metrics endpoint; Asio does not ask
  // for close-on-exec) and a file opened without O_CLOEXEC.
  asio::ip::tcp::acceptor listener(io, {asio::ip::make_address("127.0.0.1"), 0});
  TempDir tmp;
  const int file = ::open((tmp.path / "held").c_str(), O_WRONLY | O_CREAT, 0600);
  REQUIRE(file >= 0);
  // Globbing opens /proc/self/fd itself; that descriptor is closed again when the loop runs.
  const std::string script =
      R"sh(for f in /proc/self/fd/*; do [ -L "$f" ] || continue; case "${f##*/}" in 0|1|2) ;; )sh"
      R"sh(*) echo "inherited fd ${f##*/}: $(readlink "$f")" >&2; exit 1;; esac; done; )sh"
      R"sh(printf '%s' '{"Version":1,"AccessKeyId":"AKFDS","SecretAccessKey":"S"}')sh";
  Diagnostics diag;
  auto fut = asio::co_spawn(io, async_credential_process(io.get_executor(), script, "fds", {}, diag),
                            asio::use_future);
  io.run();
  auto creds = fut.get();
  ::close(file);
  INFO(diag.message);
  REQUIRE(creds);
  CHECK(creds->access_key_id == "AKFDS");
}

TEST_CASE("chain: ECS container credentials with an authorization token file", "[integration][chain]") {
  Fixture f;
  std::ofstream(f.tmp.path / "ecs-token") << kEcsAuth << "\n";
  auto client_made = require_create<AwsClient>(f.io.get_executor(),
                   f.options({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", f.fake_url() + "/ecs/credentials"},
                              {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (f.tmp.path / "ecs-token").string()}}));
  AwsClient& client = *client_made;
  auto [id, diag] = f.whoami(client);
  INFO(to_string(diag));
  REQUIRE(id);
  CHECK(id->arn == std::string("arn:aws:iam::000000000000:user/") + kAkid);
  CHECK(client.credentials().describe() == "ecs-container");

  auto wrong_made = require_create<AwsClient>(f.io.get_executor(),
                  f.options({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", f.fake_url() + "/ecs/credentials"},
                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "not-the-token"}}));
  AwsClient& wrong = *wrong_made;
  auto [bad, bad_diag] = f.whoami(wrong);
  REQUIRE(bad.has_error());
  INFO(bad_diag.message);
  CHECK(bad_diag.message.find("ECS container credentials") != std::string::npos);
  CHECK(bad_diag.message.find("HTTP 403") != std::string::npos);
  CHECK(bad_diag.message.find("not-the-token") == std::string::npos);
}

TEST_CASE("chain: a plain-http ECS full URI is checked on the addresses its host resolves to", "[integration][chain]") {
  Fixture f;
  const std::string port = std::to_string(f.fake_port);
  // A name that resolves to loopback is fine (the SDKs decide on the resolved address).
  auto by_name_made = require_create<AwsClient>(f.io.get_executor(),
                    f.options({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://localhost:" + port + "/ecs/credentials"},
                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kEcsAuth}}));
  AwsClient& by_name = *by_name_made;
  auto [id, diag] = f.whoami(by_name);
  INFO(to_string(diag));
  REQUIRE(id);
  CHECK(by_name.credentials().describe() == "ecs-container");

  // A name that merely starts with "127." is no loopback address: it used to pass on its name.
  auto lookalike_made = require_create<AwsClient>(f.io.get_executor(),
                      f.options({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.attacker.invalid:" + port + "/ecs/credentials"},
                                 {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kEcsAuth}}));
  AwsClient& lookalike = *lookalike_made;
  auto [bad, bad_diag] = f.whoami(lookalike);
  REQUIRE(bad.has_error());
  INFO(bad_diag.message);
  CHECK(bad_diag.message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI") != std::string::npos);
  CHECK(bad_diag.message.find("127.attacker.invalid") != std::string::npos);
  CHECK(bad_diag.message.find(kEcsAuth) == std::string::npos);
  // Only the name that resolved to loopback reached the endpoint.
  const std::string log = f.fake_log();
  INFO(log);
  const auto first = log.find("GET /ecs/credentials");
  REQUIRE(first != std::string::npos);
  CHECK(log.find("GET /ecs/credentials", first + 1) == std::string::npos);
}

TEST_CASE("chain: AWS_EC2_METADATA_V1_DISABLED forbids the IMDSv1 fallback", "[integration][chain]") {
  Fixture f("imdsv1");
  auto v1_made = require_create<AwsClient>(f.io.get_executor(), f.options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", f.fake_url()}}));
  AwsClient& v1 = *v1_made;
  auto [id, diag] = f.whoami(v1);
  INFO(to_string(diag));
  REQUIRE(id);  // an IMDSv1-only endpoint is used without a token by default, as the SDKs do
  CHECK(f.fake_log().find("GET /latest/meta-data/iam/security-credentials/ token=no") != std::string::npos);

  Fixture g("imdsv1");
  auto strict_made = require_create<AwsClient>(g.io.get_executor(), g.options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", g.fake_url()},
                                                   {"AWS_EC2_METADATA_V1_DISABLED", "true"}}));
  AwsClient& strict = *strict_made;
  auto [bad, bad_diag] = g.whoami(strict);
  REQUIRE(bad.has_error());
  INFO(bad_diag.message);
  CHECK(bad_diag.message.find("HTTP 403") != std::string::npos);
  CHECK(bad_diag.message.find("AWS_EC2_METADATA_V1_DISABLED") != std::string::npos);
  const std::string log = g.fake_log();
  INFO(log);
  CHECK(log.find("PUT /latest/api/token") != std::string::npos);
  CHECK(log.find("GET ") == std::string::npos);  // no tokenless metadata request
}

TEST_CASE("chain: ec2_metadata_v1_disabled in the shared config's profile forbids the IMDSv1 fallback too",
          "[integration][chain]") {
  // On EC2 the default profile often holds settings only (region, IMDS options): the chain goes
  // on to the instance metadata, with the profile's IMDS settings.
  Fixture f("imdsv1");
  std::ofstream(f.tmp.path / "config") << "[default]\nregion = eu-west-1\n";
  auto v1_made = require_create<AwsClient>(f.io.get_executor(), f.options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", f.fake_url()},
                                               {"AWS_CONFIG_FILE", (f.tmp.path / "config").string()}}));
  AwsClient& v1 = *v1_made;
  auto [id, diag] = f.whoami(v1);
  INFO(to_string(diag));
  CHECK(id);

  Fixture g("imdsv1");
  std::ofstream(g.tmp.path / "config") << "[default]\nregion = eu-west-1\nec2_metadata_v1_disabled = true\n";
  auto strict_made = require_create<AwsClient>(g.io.get_executor(), g.options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", g.fake_url()},
                                                   {"AWS_CONFIG_FILE", (g.tmp.path / "config").string()}}));
  AwsClient& strict = *strict_made;
  auto [bad, bad_diag] = g.whoami(strict);
  REQUIRE(bad.has_error());
  INFO(bad_diag.message);
  CHECK(bad_diag.message.find("HTTP 403") != std::string::npos);
  CHECK(bad_diag.message.find("ec2_metadata_v1_disabled") != std::string::npos);
  CHECK(g.fake_log().find("GET ") == std::string::npos);  // no tokenless metadata request

  // The environment variable wins over the profile, as in the AWS SDKs.
  Fixture h("imdsv1");
  std::ofstream(h.tmp.path / "config") << "[default]\nec2_metadata_v1_disabled = true\n";
  auto env_wins_made = require_create<AwsClient>(h.io.get_executor(), h.options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", h.fake_url()},
                                                     {"AWS_CONFIG_FILE", (h.tmp.path / "config").string()},
                                                     {"AWS_EC2_METADATA_V1_DISABLED", "false"}}));
  AwsClient& env_wins = *env_wins_made;
  auto [ok, ok_diag] = h.whoami(env_wins);
  INFO(to_string(ok_diag));
  CHECK(ok);
}

TEST_CASE("chain: EC2 instance metadata with an IMDSv2 session token", "[integration][chain]") {
  Fixture f;
  auto client_made = require_create<AwsClient>(f.io.get_executor(), f.options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", f.fake_url()}}));
  AwsClient& client = *client_made;
  auto [id, diag] = f.whoami(client);
  INFO(to_string(diag));
  REQUIRE(id);
  CHECK(client.credentials().describe() == "ec2-instance-metadata");
  const std::string log = f.fake_log();
  INFO(log);
  const auto put = log.find("PUT /latest/api/token ttl=21600");
  const auto role = log.find("GET /latest/meta-data/iam/security-credentials/ token=yes");
  const auto creds = log.find("GET /latest/meta-data/iam/security-credentials/ctsqs-instance-role token=yes");
  REQUIRE(put != std::string::npos);
  REQUIRE(role != std::string::npos);
  REQUIRE(creds != std::string::npos);
  CHECK(put < role);
  CHECK(role < creds);
}

TEST_CASE("chain: web identity token file and role (EKS), sent unsigned", "[integration][chain]") {
  Fixture f;
  std::ofstream(f.tmp.path / "token") << kWebToken;
  // STS for the web identity exchange is the fake; the gate then checks the credentials.
  CredentialsContext ctx;
  ctx.executor = f.io.get_executor();
  auto plain_made = require_create<AwsClient>(f.io.get_executor(), f.options({{"AWS_EC2_METADATA_DISABLED", "true"}}));
  AwsClient& plain = *plain_made;
  ctx.http = &plain.http();
  ctx.region = "eu-west-1";
  std::map<std::string, std::string, std::less<>> env = {
      {"AWS_WEB_IDENTITY_TOKEN_FILE", (f.tmp.path / "token").string()},
      {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/eks-pod"},
      {"AWS_ROLE_SESSION_NAME", "pod-1"},
      {"AWS_ENDPOINT_URL_STS", f.fake_url()}};
  ctx.env = [env](std::string_view k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto chain = make_default_chain(ctx);
  auto o = f.options({});
  o.credentials_provider = chain;
  auto client_made = require_create<AwsClient>(f.io.get_executor(), o);
  AwsClient& client = *client_made;
  auto [id, diag] = f.whoami(client);
  INFO(to_string(diag));
  REQUIRE(id);
  CHECK(id->arn == std::string("arn:aws:iam::000000000000:user/") + kAkid);
  CHECK(chain->describe() == "web-identity arn:aws:iam::123456789012:role/eks-pod");
  CHECK(f.fake_log().find("POST AssumeRoleWithWebIdentity signed=no") != std::string::npos);

  std::ofstream(f.tmp.path / "token", std::ios::trunc) << "forged";
  chain->invalidate();
  auto [bad, bad_diag] = f.whoami(client);
  REQUIRE(bad.has_error());
  CHECK(bad_diag.aws_code == "InvalidIdentityToken");
  CHECK(bad_diag.message.find("eks-pod") != std::string::npos);
}

TEST_CASE("chain: nothing usable fails fast with the sources tried", "[integration][chain]") {
  Fixture f;
  auto client_made = require_create<AwsClient>(f.io.get_executor(), f.options({{"AWS_EC2_METADATA_DISABLED", "true"}, {"HOME", f.tmp.path.string()}}));
  AwsClient& client = *client_made;
  auto [id, diag] = f.whoami(client);
  REQUIRE(id.has_error());
  CHECK(diag.message.find("no AWS credentials found") != std::string::npos);
  CHECK(diag.message.find("AWS_EC2_METADATA_DISABLED") != std::string::npos);
}
