// AwsClient against the SigV4-verifying gate on loopback: signing accepted, AssumeRole with an
// external id, credential refresh on expiry, retries of injected faults, clock skew, clear
// errors for a wrong secret, keep-alive, the `ctsqs whoami` command, and no secret in output.
#include "ctsqs/aws/client.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/credentials/chain.hpp"

#include "catch.hpp"
#include "unit/catch_result.hpp"
#include "peers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <optional>
#include <thread>

using namespace ctsqs;
using ctsqs::test::Peers;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {


template <class T>
T run(asio::io_context& io, asio::awaitable<T> aw) {
  std::optional<T> out;
  std::exception_ptr err;
  asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
    err = e;
    if (!e) out.emplace(std::move(v));
  });
  io.restart();
  io.run();
  if (err) std::rethrow_exception(err);
  return std::move(*out);
}

AwsClientOptions gate_options(const Peers& peers) {
  AwsClientOptions o;
  o.endpoints.region = "us-east-1";
  o.endpoints.sts_endpoint = peers.gate_endpoint();
  o.credentials.access_key_id = "test";
  o.credentials.secret_access_key = "test";
  o.jitter = [] { return 0.1; };  // short, deterministic backoff in tests
  return o;
}

CallOptions op(const char* operation) {
  CallOptions o;
  o.operation = operation;
  return o;
}

long stat(const Peers& peers, const char* name) {
  return static_cast<long>(boost::json::parse(peers.gate_stats()).as_object().at(name).as_int64());
}

struct Identity {
  result<sts::CallerIdentity> id = make_error_code(client_errc::cancelled);
  Diagnostics diag;
};

Identity whoami(asio::io_context& io, AwsClient& client) {
  Identity out;
  out.id = run(io, async_get_caller_identity(client, out.diag));
  return out;
}

}  // namespace

TEST_CASE("signed STS calls are accepted by the gate and reuse one connection", "[integration][aws]") {
  Peers peers({.peers = "gate", .env = {}});
  asio::io_context io;
  auto client_made = require_create<AwsClient>(io.get_executor(), gate_options(peers));
  AwsClient& client = *client_made;
  for (int i = 0; i < 3; ++i) {
    auto r = whoami(io, client);
    INFO(to_string(r.diag));
    REQUIRE(r.id);
    CHECK(r.id->account == "000000000000");
    CHECK(r.id->arn == "arn:aws:iam::000000000000:user/test");
  }
  CHECK(stat(peers, "rejected") == 0);
  CHECK(stat(peers, "accepted") == 3);
  CHECK(client.http().connections_opened() == 1);  // keep-alive
  CHECK(client.credentials().describe() == "static configuration");
}

TEST_CASE("a wrong secret gives a clear SignatureDoesNotMatch error without the secret", "[integration][aws]") {
  Peers peers({.peers = "gate", .env = {}});
  asio::io_context io;
  auto o = gate_options(peers);
  o.credentials.secret_access_key = "WrongSecretKeyValue1234567890";
  auto client_made = require_create<AwsClient>(io.get_executor(), o);
  AwsClient& client = *client_made;
  auto r = whoami(io, client);
  REQUIRE(r.id.has_error());
  CHECK(r.id.error() == aws_errc::signature_mismatch);
  CHECK(r.diag.aws_code == "SignatureDoesNotMatch");
  CHECK(r.diag.http_status == 403);
  CHECK_FALSE(r.diag.request_id.empty());
  CHECK(to_string(r.diag).find("WrongSecretKeyValue") == std::string::npos);
  CHECK(client.stats().attempts == 1);  // never retried
}

TEST_CASE("AssumeRole with the external id works, a wrong one is refused clearly", "[integration][aws]") {
  Peers peers({.peers = "gate", .env = {{"GATE_EXTERNAL_ID", "ext-4242"}}});
  asio::io_context io;
  auto o = gate_options(peers);
  o.credentials.cross_account_role = "arn:aws:iam::123456789012:role/collector";
  o.credentials.session_name = "ctsqs-it";
  o.credentials.external_id = "ext-4242";
  {
    auto client_made = require_create<AwsClient>(io.get_executor(), o);
    AwsClient& client = *client_made;
    auto r = whoami(io, client);
    INFO(to_string(r.diag));
    REQUIRE(r.id);
    CHECK(r.id->arn == "arn:aws:sts::000000000000:assumed-role/collector/ctsqs-it");
    CHECK(client.credentials().describe() ==
          "assume-role arn:aws:iam::123456789012:role/collector (with external id) <- static configuration");
  }
  {
    o.credentials.external_id = "ext-wrong";
    auto client_made = require_create<AwsClient>(io.get_executor(), o);
    AwsClient& client = *client_made;
    auto r = whoami(io, client);
    REQUIRE(r.id.has_error());
    CHECK(r.id.error() == aws_errc::access_denied);
    CHECK(r.diag.aws_code == "AccessDenied");
    CHECK(r.diag.message.find("sts:AssumeRole") != std::string::npos);
    CHECK(r.diag.message.find("external id") != std::string::npos);
    CHECK(r.diag.message.find("ext-wrong") == std::string::npos);
  }
  CHECK(stat(peers, "sts") == 3);  // AssumeRole + GetCallerIdentity, then the refused AssumeRole (not retried)
}

TEST_CASE("base role then cross-account role", "[integration][aws]") {
  Peers peers({.peers = "gate", .env = {}});
  asio::io_context io;
  auto o = gate_options(peers);
  o.credentials.base_account_role = "arn:aws:iam::111111111111:role/base";
  o.credentials.cross_account_role = "arn:aws:iam::222222222222:role/cross";
  auto client_made = require_create<AwsClient>(io.get_executor(), o);
  AwsClient& client = *client_made;
  auto r = whoami(io, client);
  INFO(to_string(r.diag));
  REQUIRE(r.id);
  CHECK(r.id->arn.find("assumed-role/cross/") != std::string::npos);
  CHECK(stat(peers, "sts") == 3);  // AssumeRole base, AssumeRole cross, GetCallerIdentity
}

TEST_CASE("assumed-role credentials are refreshed before the gate expires them", "[integration][aws]") {
  Peers peers({.peers = "gate", .env = {{"GATE_STS_TTL_S", "3"}}});
  asio::io_context io;
  auto o = gate_options(peers);
  o.credentials.cross_account_role = "arn:aws:iam::123456789012:role/short";
  auto client_made = require_create<AwsClient>(io.get_executor(), o);
  AwsClient& client = *client_made;
  for (int i = 0; i < 8; ++i) {
    auto r = whoami(io, client);
    INFO("call " << i << ": " << to_string(r.diag));
    REQUIRE(r.id);
    std::this_thread::sleep_for(700ms);
  }
  // 8 calls over ~5.6 s with 3 s credentials: refreshed (each after half their life), never expired.
  CHECK(stat(peers, "rejected") == 0);
  const long sts = stat(peers, "sts");
  CHECK(sts >= 8 + 2);   // the GetCallerIdentity calls + at least two AssumeRoles
  CHECK(sts <= 8 + 6);
}

TEST_CASE("ExpiredToken invalidates the credentials and the call is retried at once", "[integration][aws]") {
  Peers peers({.peers = "gate", .env = {{"GATE_STS_TTL_S", "2"}}});
  asio::io_context io;
  // A provider that believes its assumed-role credentials live an hour (as after a clock jump):
  // only the gate's ExpiredToken can tell it otherwise.
  auto sts_client_made = require_create<AwsClient>(io.get_executor(), gate_options(peers));
  AwsClient& sts_client = *sts_client_made;
  int fetches = 0;
  auto fetch = [&](Diagnostics& d) -> asio::awaitable<result<Credentials>> {
    ++fetches;
    sts::StsTarget t{"http", Peers::host(peers.gate_port()), ""};
    sts::AssumeRoleParams p;
    p.role_arn = "arn:aws:iam::123456789012:role/lying";
    CallOptions co;
    co.operation = "AssumeRole";
    auto resp = co_await sts_client.async_call("sts", sts::make_assume_role_request(t, p), co, d);
    if (!resp) co_return resp.error();
    auto role = sts::parse_assume_role_response(*resp, d);
    if (!role) co_return role.error();
    role->credentials.expiration = std::chrono::system_clock::now() + 1h;
    co_return role->credentials;
  };
  auto o = gate_options(peers);
  o.credentials_provider = std::make_shared<CachingCredentialsProvider>(io.get_executor(), fetch, "lying");
  auto client_made = require_create<AwsClient>(io.get_executor(), o);
  AwsClient& client = *client_made;
  REQUIRE(whoami(io, client).id);
  std::this_thread::sleep_for(2500ms);
  auto r = whoami(io, client);
  INFO(to_string(r.diag));
  REQUIRE(r.id);
  CHECK(fetches == 2);
  CHECK(client.stats().credential_refreshes_forced == 1);
  CHECK(stat(peers, "rejected") == 1);  // the one ExpiredToken
}

TEST_CASE("injected 503s, throttling and connection resets are retried to success", "[integration][aws]") {
  Peers peers({.peers = "gate", .env = {}});
  asio::io_context io;
  auto o = gate_options(peers);
  o.endpoints.max_attempts = 3;
  auto client_made = require_create<AwsClient>(io.get_executor(), o);
  AwsClient& client = *client_made;

  peers.gate_add_faults(R"([{"service":"sts","action":"GetCallerIdentity","status":503,"times":2}])");
  auto a = whoami(io, client);
  INFO(to_string(a.diag));
  REQUIRE(a.id);
  CHECK(client.stats().retries == 2);

  peers.gate_add_faults(R"([{"service":"sts","action":"GetCallerIdentity","status":400,"code":"Throttling","times":2}])");
  auto b = whoami(io, client);
  REQUIRE(b.id);
  CHECK(client.stats().retries == 4);

  peers.gate_add_faults(R"([{"service":"sts","action":"GetCallerIdentity","reset":true,"times":2}])");
  auto c = whoami(io, client);
  INFO(to_string(c.diag));
  REQUIRE(c.id);
  CHECK(stat(peers, "faultsInjected") == 6);

  // More faults than attempts: the last error is returned, with its AWS detail.
  peers.gate_add_faults(R"([{"service":"sts","action":"GetCallerIdentity","status":500,"code":"InternalFailure","times":3}])");
  auto d = whoami(io, client);
  REQUIRE(d.id.has_error());
  CHECK(d.id.error() == aws_errc::internal_error);
  CHECK(d.diag.aws_code == "InternalFailure");
  CHECK(d.diag.message.find("after 3 attempts") != std::string::npos);

  // A 4xx client error is never retried.
  const auto before = client.stats().attempts;
  peers.gate_add_faults(R"([{"service":"sts","action":"GetCallerIdentity","status":400,"code":"InvalidParameterValue","times":1}])");
  auto e = whoami(io, client);
  REQUIRE(e.id.has_error());
  CHECK(client.stats().attempts == before + 1);
}

TEST_CASE("a skewed local clock is corrected from the Date header and the call retried", "[integration][aws]") {
  Peers peers({.peers = "gate", .env = {}});
  asio::io_context io;
  auto o = gate_options(peers);
  o.clock = [] { return std::chrono::system_clock::now() - 40min; };
  auto client_made = require_create<AwsClient>(io.get_executor(), o);
  AwsClient& client = *client_made;
  auto r = whoami(io, client);
  INFO(to_string(r.diag));
  REQUIRE(r.id);
  CHECK(client.stats().clock_skew_corrections == 1);
  CHECK(client.clock_offset() > 39min);
  CHECK(client.clock_offset() < 41min);
  REQUIRE(whoami(io, client).id);
  CHECK(client.stats().clock_skew_corrections == 1);  // stays corrected
}

// Found by the fault-schedule harness (clock-skew kind): with a cross-account role, the first
// refusal came from STS inside the credentials fetch, which never learnt the correction; every
// call failed with "Signature expired" for as long as the process ran.
TEST_CASE("a skewed clock is corrected for the role's STS calls too, and expiry is judged on the corrected clock",
          "[integration][aws]") {
  for (const std::chrono::seconds skew : {std::chrono::seconds(-3h), std::chrono::seconds(40min)}) {
    INFO("local clock off by " << std::chrono::duration_cast<std::chrono::minutes>(skew).count() << " min");
    Peers peers({.peers = "gate", .env = {{"GATE_EXTERNAL_ID", "ext-skew"}, {"GATE_STS_TTL_S", "3"}}});
    asio::io_context io;
    auto o = gate_options(peers);
    o.clock = [skew] { return std::chrono::system_clock::now() + skew; };
    o.credentials.cross_account_role = "arn:aws:iam::123456789012:role/skewed";
    o.credentials.external_id = "ext-skew";
    auto client_made = require_create<AwsClient>(io.get_executor(), o);
    AwsClient& client = *client_made;
    for (int i = 0; i < 6; ++i) {
      auto r = whoami(io, client);
      INFO("call " << i << ": " << to_string(r.diag));
      REQUIRE(r.id);
      std::this_thread::sleep_for(600ms);
    }
    CHECK(std::chrono::abs(client.clock_offset() + skew) < 1min);
    // 6 calls over ~3.6 s with 3 s credentials judged on the corrected clock: a few AssumeRoles
    // (refreshed after half their life), not one per call (credentials that look expired on
    // arrival) and none refused as expired by the gate.
    const long sts = stat(peers, "sts");
    CHECK(sts >= 6 + 2);
    CHECK(sts <= 6 + 5);
    CHECK(client.stats().credential_refreshes_forced == 0);
  }
}

TEST_CASE("ctsqs whoami prints the identity and provider, never a secret", "[integration][aws][cli]") {
  Peers peers({.peers = "gate", .env = {{"GATE_EXTERNAL_ID", "ext-cli"},
                                        {"GATE_CREDENTIALS", "AKIDWHOAMI:SecretNeverPrinted42"}}});
  const std::string bin = std::string(CTSQS_BINARY_DIR) + "/cli/ctsqs";
  const auto out = peers.run_dir() / "whoami.out";
  const auto err = peers.run_dir() / "whoami.err";
  std::vector<std::string> env = {"AWS_ACCESS_KEY_ID=AKIDWHOAMI", "AWS_SECRET_ACCESS_KEY=SecretNeverPrinted42",
                                  "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent",
                                  "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_PROFILE="};
  int rc = ctsqs::test::run_process({bin, "whoami", "--region", "eu-west-1", "--endpoint-url", peers.gate_endpoint(),
                                     "--role-arn", "arn:aws:iam::123456789012:role/cli", "--external-id", "ext-cli"},
                                    env, out, err);
  std::string text = ctsqs::test::read_file(out);
  std::string errors = ctsqs::test::read_file(err);
  INFO(text << errors);
  CHECK(rc == 0);
  CHECK(text.find("Account:     000000000000") != std::string::npos);
  CHECK(text.find("assumed-role/cli/ctsqs") != std::string::npos);
  CHECK(text.find("assume-role arn:aws:iam::123456789012:role/cli (with external id) <- environment") != std::string::npos);
  CHECK(text.find("SecretNeverPrinted42") == std::string::npos);
  CHECK(errors.find("SecretNeverPrinted42") == std::string::npos);

  rc = ctsqs::test::run_process({bin, "whoami", "--region", "eu-west-1", "--endpoint-url", peers.gate_endpoint(),
                                 "--role-arn", "arn:aws:iam::123456789012:role/cli", "--external-id", "ext-bad"},
                                env, out, err);
  text = ctsqs::test::read_file(out);
  errors = ctsqs::test::read_file(err);
  INFO(text << errors);
  CHECK(rc == 1);
  CHECK(errors.find("AccessDenied (HTTP 403") != std::string::npos);
  CHECK(errors.find("SecretNeverPrinted42") == std::string::npos);
  CHECK(text.find("SecretNeverPrinted42") == std::string::npos);
}

TEST_CASE("S3 GetObject streams through the gate, a reset before the body is retried", "[integration][aws][s3]") {
  Peers peers;  // fauxqs, s3rver (behind the gate), gate
  asio::io_context io;
  auto o = gate_options(peers);
  auto client_made = require_create<AwsClient>(io.get_executor(), o);
  AwsClient& client = *client_made;
  const std::string host = Peers::host(peers.gate_port());
  auto call = [&](std::string method, std::string path, std::string body) {
    HttpRequest r;
    r.method = std::move(method);
    r.scheme = "http";
    r.host = host;
    r.path = std::move(path);
    r.body = std::move(body);
    Diagnostics d;
    auto resp = run(io, client.async_call("s3", r, op("setup"), d));
    INFO(to_string(d));
    REQUIRE(resp);
  };
  std::string blob(2 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>((i * 2654435761u) >> 13);
  call("PUT", "/ctsqs-stream", "");
  call("PUT", "/ctsqs-stream/logs/big%20file.bin", blob);

  // Two resets: the first hits the kept-alive connection and is replayed on a fresh one by the
  // transport; the second fails that attempt, which AwsClient retries.
  peers.gate_add_faults(R"([{"service":"s3","action":"GetObject","reset":true,"times":2}])");
  const auto retries_before = client.stats().retries;
  std::string received;
  std::size_t largest = 0;
  transport::BodyChunkHandler on_chunk = [&](std::span<const std::byte> c) -> asio::awaitable<result<void>> {
    largest = std::max(largest, c.size());
    received.append(reinterpret_cast<const char*>(c.data()), c.size());
    co_return result<void>{};
  };
  HttpRequest get;
  get.scheme = "http";
  get.host = host;
  get.path = "/ctsqs-stream/logs/big%20file.bin";
  Diagnostics d;
  std::uint64_t delivered = 0;
  auto resp = run(io, client.async_call_streaming("s3", get, op("GetObject"), on_chunk, d, &delivered));
  INFO(to_string(d));
  REQUIRE(resp);
  CHECK(resp->status == 200);
  CHECK(received == blob);
  CHECK(delivered == blob.size());
  CHECK(largest <= transport::HttpsClientConfig{}.stream_chunk_bytes);  // streamed, never the whole body
  CHECK(client.stats().retries == retries_before + 1);
  CHECK(stat(peers, "faultsInjected") == 2);
  CHECK(stat(peers, "rejected") == 0);

  // A missing key is not retried and names the AWS code.
  get.path = "/ctsqs-stream/logs/missing.bin";
  Diagnostics miss;
  const auto attempts = client.stats().attempts;
  auto gone = run(io, client.async_call_streaming("s3", get, op("GetObject"), on_chunk, miss));
  REQUIRE(gone.has_error());
  CHECK(gone.error() == aws_errc::no_such_key);
  CHECK(miss.aws_code == "NoSuchKey");
  CHECK(client.stats().attempts == attempts + 1);
}
