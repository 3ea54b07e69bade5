// `ctsqs sign` over every case of the AWS SigV4 suite: each printed artifact equals the suite's file.
// Runs the built CLI as a subprocess (no network); skips the suite part when it is absent.
#include "catch.hpp"
#include "test_paths.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

const fs::path cli = fs::path(CTSQS_BINARY_DIR) / "cli" / "ctsqs";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// '<path>' for the shell (test paths have no quotes).
std::string quoted(const fs::path& p) {
  std::string s(1, '\'');
  s += p.string();
  s += '\'';
  return s;
}

struct Run {
  int status = -1;
  std::string out;
};

// Runs the CLI with the given credentials in the environment; stderr goes to stdout.
Run run(const std::string& args, const std::string& key, const std::string& secret,
        const std::string& token) {
  if (key.empty()) ::unsetenv("AWS_ACCESS_KEY_ID"); else ::setenv("AWS_ACCESS_KEY_ID", key.c_str(), 1);
  if (secret.empty()) ::unsetenv("AWS_SECRET_ACCESS_KEY"); else ::setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);
  if (token.empty()) ::unsetenv("AWS_SESSION_TOKEN"); else ::setenv("AWS_SESSION_TOKEN", token.c_str(), 1);
  Run r;
  std::string cmd = quoted(cli);
  cmd += ' ';
  cmd += args;
  cmd += " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

const char* example_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

}  // namespace

TEST_CASE("ctsqs sign prints every artifact of the AWS suite byte for byte", "[sigv4][cli]") {
  INFO("build the ctsqs CLI (target ctsqs_cli) before this test: " << cli);
  REQUIRE(fs::exists(cli));
  const fs::path suite = ctsqs::test::shared_testdata_dir() / "sigv4" / "aws-c-auth-v4";
  if (!fs::is_directory(suite)) {
    WARN("skipped: " << suite << " is absent");
    return;
  }
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(suite))
    if (fs::exists(e.path() / "request.txt")) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 20);
  int compared = 0;
  for (const auto& dir : cases) {
    auto ctx = boost::json::parse(slurp(dir / "context.json")).as_object();
    const auto& cr = ctx.at("credentials").as_object();
    const std::string key(cr.at("access_key_id").as_string());
    const std::string secret(cr.at("secret_access_key").as_string());
    const std::string token = cr.contains("token") ? std::string(cr.at("token").as_string()) : "";
    std::string ts(ctx.at("timestamp").as_string());  // 2015-08-30T12:36:00Z
    std::string amz = ts.substr(0, 4) + ts.substr(5, 2) + ts.substr(8, 2) + "T" + ts.substr(11, 2) +
                      ts.substr(14, 2) + ts.substr(17, 2) + "Z";
    std::string base = "sign '" + (dir / "request.txt").string() + "' --region " +
                       std::string(ctx.at("region").as_string()) + " --service " +
                       std::string(ctx.at("service").as_string()) + " --time " + amz;
    if (!ctx.at("normalize").as_bool()) base += " --no-normalize";
    if (ctx.at("sign_body").as_bool()) base += " --sign-body";
    if (ctx.contains("omit_session_token") && ctx.at("omit_session_token").as_bool())
      base += " --omit-session-token";
    for (bool query : {false, true}) {
      const std::string prefix = query ? "query-" : "header-";
      const std::string mode = query ? base + " --query --expires " +
                                           std::to_string(ctx.at("expiration_in_seconds").to_number<long>())
                                     : base;
      for (const char* artifact : {"canonical-request", "string-to-sign", "signature", "signed-request"}) {
        Run r = run(mode + " --print " + artifact, key, secret, token);
        INFO(dir.filename().string() << " " << prefix << artifact << "\n" << r.out);
        CHECK(r.status == 0);
        CHECK(r.out == slurp(dir / (prefix + artifact + ".txt")));
        ++compared;
      }
    }
  }
  CHECK(compared == static_cast<int>(cases.size()) * 8);
}

TEST_CASE("ctsqs sign: labelled default output, errors, and no secret", "[sigv4][cli]") {
  INFO("build the ctsqs CLI (target ctsqs_cli) before this test: " << cli);
  REQUIRE(fs::exists(cli));
  const fs::path dir = fs::temp_directory_path() / ("ctsqs-cli-sign-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream(dir / "req.txt") << "GET / HTTP/1.1\nHost:example.amazonaws.com\n"
                                      "X-Amz-Date:20150830T123600Z\n";
    std::ofstream(dir / "bad.txt") << "GET / HTTP/1.1\nHost example\n";
  }
  const std::string req = quoted(dir / "req.txt");

  // --time defaults to the request's own X-Amz-Date: the AWS docs' get-vanilla signature.
  Run all = run("sign " + req + " --region us-east-1 --service service", "AKIDEXAMPLE", example_secret, "");
  INFO(all.out);
  CHECK(all.status == 0);
  for (const char* label : {"--- canonical-request\n", "--- string-to-sign\n", "--- signature\n",
                            "--- authorization\n", "--- signed-request\n"})
    CHECK(all.out.find(label) != std::string::npos);
  CHECK(all.out.find("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31") != std::string::npos);
  CHECK(all.out.find(example_secret) == std::string::npos);

  Run token = run("sign " + req + " --region us-east-1 --service service --query --print signed-request",
                  "AKIDEXAMPLE", example_secret, "SESSION/TOKEN");
  CHECK(token.status == 0);
  CHECK(token.out.find("X-Amz-Expires=900&X-Amz-Security-Token=SESSION%2FTOKEN&X-Amz-Signature=") !=
        std::string::npos);
  CHECK(token.out.find(example_secret) == std::string::npos);

  Run nocreds = run("sign " + req + " --region us-east-1 --service service", "", "", "");
  CHECK(nocreds.status == 2);
  CHECK(nocreds.out.find("AWS_ACCESS_KEY_ID") != std::string::npos);

  Run bad = run("sign '" + (dir / "bad.txt").string() + "' --region us-east-1 --service s --time 20150830T123600Z",
                "AKIDEXAMPLE", example_secret, "");
  CHECK(bad.status == 1);
  CHECK(bad.out.find("bad.txt") != std::string::npos);
  CHECK(bad.out.find("line 2") != std::string::npos);

  Run badtime = run("sign " + req + " --region us-east-1 --service s --time yesterday", "AKIDEXAMPLE",
                    example_secret, "");
  CHECK(badtime.status == 2);
  CHECK(badtime.out.find("'yesterday'") != std::string::npos);

  Run missing = run("sign '" + (dir / "nope.txt").string() + "' --region r --service s", "AKIDEXAMPLE",
                    example_secret, "");
  CHECK(missing.status == 2);
  CHECK(missing.out.find("nope.txt") != std::string::npos);

  Run auth_q = run("sign " + req + " --region us-east-1 --service s --query --print authorization",
                   "AKIDEXAMPLE", example_secret, "");
  CHECK(auth_q.status == 2);
  fs::remove_all(dir);
}
