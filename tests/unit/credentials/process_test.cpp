// credential_process: the JSON it prints, and real runs of /bin/sh commands (exit status, stderr,
// timeout, output limit, process group kill). No secret of the output ever reaches a message.
#include "ctsqs/aws/credentials/chain.hpp"
#include "ctsqs/aws/credentials/process.hpp"
#include "ctsqs/aws/credentials/profile_file.hpp"

#include "catch.hpp"
#include "../catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace ctsqs;
using namespace std::chrono;
namespace asio = boost::asio;

namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";

struct Run {
  result<Credentials> creds = make_error_code(client_errc::invalid_argument);
  Diagnostics diag;
};

Run run(const std::string& command, ProcessCredentialsOptions o = {}) {
  asio::io_context io;
  Run r;
  auto fut = asio::co_spawn(io, async_credential_process(io.get_executor(), command, "dev", o, r.diag),
                            asio::use_future);
  io.run();
  r.creds = fut.get();
  return r;
}

std::string json_out(const std::string& extra = "") {
  return std::string("{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS\", \"SecretAccessKey\": \"") + kSecret +
         "\", \"SessionToken\": \"tok-" + kSecret + "\"" + extra + "}";
}

}  // namespace

TEST_CASE("credential_process output: version 1 with optional token and expiration", "[process]") {
  Diagnostics d;
  auto c = parse_process_credentials_json(json_out(", \"Expiration\": \"2026-12-01T10:00:00Z\""), "p", d);
  REQUIRE(c);
  CHECK(c->access_key_id == "ASIAPROCESS");
  CHECK(c->secret_access_key == kSecret);
  CHECK(c->session_token == std::string("tok-") + kSecret);
  REQUIRE(c->expiration);
  CHECK(*c->expiration == sys_days{2026y / 12 / 1} + 10h);

  auto longterm = parse_process_credentials_json(R"({"Version":1,"AccessKeyId":"AK","SecretAccessKey":"S"})", "p", d);
  REQUIRE(longterm);
  CHECK_FALSE(longterm->expiration);
  CHECK(longterm->session_token.empty());

  // Some helpers answer 9999-12-31T23:59:59Z for keys that never expire.
  auto never = parse_process_credentials_json(json_out(", \"Expiration\": \"9999-12-31T23:59:59Z\""), "p", d);
  REQUIRE(never);
  CHECK_FALSE(never->expiration);

  struct Bad {
    const char* body;
    const char* says;
  };
  for (const Bad& b : {Bad{"not json", "not a JSON object"}, Bad{"[1]", "not a JSON object"},
                       Bad{R"({"AccessKeyId":"AK","SecretAccessKey":"S"})", "Version"},
                       Bad{R"({"Version":2,"AccessKeyId":"AK","SecretAccessKey":"S"})", "Version"},
                       Bad{R"({"Version":1,"AccessKeyId":"AK"})", "lacks AccessKeyId or SecretAccessKey"},
                       Bad{R"({"Version":1,"AccessKeyId":"AK","SecretAccessKey":"S","Expiration":"soon"})",
                           "unreadable Expiration"}}) {
    INFO(b.body);
    Diagnostics bd;
    CHECK_FALSE(parse_process_credentials_json(b.body, "profile 'dev': credential_process", bd));
    CHECK(bd.message.find("profile 'dev': credential_process") == 0);
    CHECK(bd.message.find(b.says) != std::string::npos);
  }
}

TEST_CASE("credential_process: a real command's JSON becomes the credentials", "[process]") {
  auto r = run("printf '%s' '" + json_out(", \"Expiration\": \"2030-01-01T00:00:00Z\"") + "'");
  REQUIRE(r.creds);
  CHECK(r.creds->access_key_id == "ASIAPROCESS");
  CHECK(r.creds->secret_access_key == kSecret);
  CHECK(r.creds->provider == "profile dev credential_process");
  // Arguments and quoting go through the shell, as the AWS SDKs for Java and Rust run it.
  auto echo = run("f() { printf '{\"Version\":1,\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"%s\"}' \"$1\" \"$2\"; }; "
                  "f 'AK with space' S3cr3t");
  REQUIRE(echo.creds);
  CHECK(echo.creds->access_key_id == "AK with space");
}

TEST_CASE("credential_process failures name the profile and what happened, never the output", "[process]") {
  auto failed = run("echo 'token for dev expired, run login' >&2; printf '%s' '" + json_out() + "'; exit 3");
  CHECK_FALSE(failed.creds);
  CHECK(failed.diag.message ==
        "profile 'dev': credential_process exited with status 3: token for dev expired, run login");

  auto garbage = run("echo 'SecretAccessKey=" + std::string(kSecret) + "'");
  CHECK_FALSE(garbage.creds);
  CHECK(garbage.diag.message == "profile 'dev': credential_process: output is not a JSON object");

  auto missing = run("/nonexistent/get-creds --profile dev");
  CHECK_FALSE(missing.creds);
  CHECK(missing.diag.message.find("exited with status 127") != std::string::npos);

  ProcessCredentialsOptions small;
  small.max_output = 100;
  auto big = run("head -c 100000 /dev/zero | tr '\\0' x", small);
  CHECK_FALSE(big.creds);
  CHECK(big.diag.message == "profile 'dev': credential_process printed more than 100 bytes and was killed");

  for (const auto* m : {&failed.diag.message, &garbage.diag.message, &missing.diag.message, &big.diag.message})
    CHECK(m->find(kSecret) == std::string::npos);
}

TEST_CASE("credential_process: a command that hangs is killed with what it started", "[process]") {
  // The shell starts a background sleeper holding stdout open: killing only the shell would leave
  // the pipe open; the whole process group goes.
  const auto marker = std::filesystem::temp_directory_path() / ("ctsqs-proc-" + std::to_string(::getpid()));
  ProcessCredentialsOptions quick;
  quick.timeout = milliseconds(500);
  const auto t0 = steady_clock::now();
  auto r = run("sleep 30 & echo $! > '" + marker.string() + "'; wait", quick);
  const auto took = steady_clock::now() - t0;
  CHECK_FALSE(r.creds);
  CHECK(r.creds.error() == make_error_code(client_errc::timeout));
  CHECK(r.diag.message == "profile 'dev': credential_process did not finish within 0 s and was killed");
  CHECK(took < seconds(10));
  std::ifstream in(marker);
  pid_t sleeper = 0;
  in >> sleeper;
  std::filesystem::remove(marker);
  REQUIRE(sleeper > 0);
  // Reaped by init by now or about to be: it must not be running any more.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(sleeper) + "/stat");
    std::string pid, comm, state;
    if (!(stat >> pid >> comm >> state) || state == "Z") gone = true;
    else std::this_thread::sleep_for(milliseconds(20));
  }
  CHECK(gone);

  // One that closes its output and goes on running is killed at the same deadline.
  const auto t1 = steady_clock::now();
  auto quiet = run("exec >&- 2>&-; sleep 30", quick);
  CHECK(quiet.creds.error() == make_error_code(client_errc::timeout));
  CHECK(steady_clock::now() - t1 < seconds(10));
}

TEST_CASE("profile plan: credential_process, alone or as a role's source profile", "[process][profile]") {
  SharedConfig cfg;
  Diagnostics d;
  REQUIRE(parse_shared_config_file(
      "[profile proc]\ncredential_process = /usr/local/bin/get-creds --account 1\n"
      "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = proc\nexternal_id = x\n"
      "[profile empty]\ncredential_process =\n",
      true, "config", cfg, d));
  const SharedConfig* files = &cfg;
  auto p = plan_profile(*files, "proc", d);
  REQUIRE(p);
  CHECK(p->source == ProfileSource::process);
  CHECK(p->process_command == "/usr/local/bin/get-creds --account 1");
  CHECK(p->roles.empty());
  auto r = plan_profile(*files, "role", d);
  REQUIRE(r);
  CHECK(r->source == ProfileSource::process);
  CHECK(r->source_profile == "proc");
  REQUIRE(r->roles.size() == 1);
  CHECK(r->roles[0].external_id == "x");
  CHECK_FALSE(plan_profile(*files, "empty", d));
  CHECK(d.message.find("profile 'empty' has no credentials") == 0);
}
