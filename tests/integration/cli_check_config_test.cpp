// The `ctsqs check-config` command end to end: the built binary on the shipped examples and on
// good and bad files, exit codes, messages on stderr, and no secret in any output.
#include "catch.hpp"
#include "cli_run.hpp"

#include <string>

using namespace ctsqs::test::cli;

namespace {

const WorkDir work_dir("cli_check_config");
const fs::path& work = work_dir.path();

Run run(const std::string& args) { return run_ctsqs(work, args); }

fs::path write(const std::string& name, const std::string& text) {
  fs::create_directories(work);
  auto p = work / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  return p;
}

}  // namespace

TEST_CASE("check-config accepts the shipped examples and prints the effective settings") {
  for (auto name : {"collector.json", "collector-local.json"}) {
    INFO(name);
    auto r = run("check-config " + q(src / "examples" / name));
    INFO(r.err);
    CHECK(r.rc == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("aws_sqs_cloudtrail -> cloud.aws.cloudtrail.{service} [all AWS services]") != std::string::npos);
  }
  // Three services in one file: each on its own line with the rule that decides what it takes.
  auto local = run("check-config " + q(src / "examples" / "collector-local.json"));
  CHECK(local.out.find("\n    aws_sqs_guard_duty -> cloud.aws.guardduty.findings; claims: key contains /GuardDuty/; "
                       "EventBridge source aws.guardduty; else content\n") != std::string::npos);
  CHECK(local.out.find("\n    aws_sqs_cloudtrail_kinesis -> cloud.aws.cloudtrail.{service} [all AWS services]; claims: "
                       "key starts with firehose/cloudtrail/; else content\n") != std::string::npos);
  auto quiet = run("check-config --quiet " + q(src / "examples" / "collector.json"));
  CHECK(quiet.rc == 0);
  CHECK(quiet.out.empty());
}

TEST_CASE("check-config on Devo's template verbatim") {
  auto f = write("template.json",
                 R"({"inputs":{"sqs_collector":{"id":"12345","services":{"aws_sqs_cloudtrail":{}},"credentials":{"aws_cross_account_role":"arn:aws:iam::123456789012:role/R","aws_external_id":"ext-4711-kept-private"},"region":"us-east-1","base_url":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}})");
  auto r = run("check-config " + q(f));
  INFO(r.err);
  CHECK(r.rc == 0);
  CHECK(r.out.find("collector 12345") != std::string::npos);
  CHECK(r.out.find("cross-account role arn:aws:iam::123456789012:role/R (with external id)") != std::string::npos);
  CHECK(r.out.find("ext-4711-kept-private") == std::string::npos);  // hidden, as whoami does
}

TEST_CASE("check-config reports every problem with its JSON path and exits 2") {
  auto f = write("bad.json",
                 R"({"inputs":{"sqs_collector":{"id":"<FIVE_UNIQUE_DIGITS>","services":{"aws_sqs_cloudtrail":{}},)"
                 R"("credentials":{"aws_access_key_id":"AKIAIOSFODNN7EXAMPLE","aws_secret_access_key":"<wJalrXUtnFEMI-secret>"},)"
                 R"("regoin":"us-east-1","base_url":"http://127.0.0.1:4566/000000000000/q"}}})");
  auto r = run("check-config " + q(f));
  CHECK(r.rc == 2);
  CHECK(r.out.empty());
  INFO(r.err);
  CHECK(r.err.find(f.string() + ": inputs.sqs_collector.id: still holds a template placeholder") != std::string::npos);
  CHECK(r.err.find("inputs.sqs_collector.region: missing") != std::string::npos);
  CHECK(r.err.find("inputs.sqs_collector.credentials.aws_secret_access_key: still holds a template placeholder") !=
        std::string::npos);
  CHECK(r.err.find("warning: inputs.sqs_collector.regoin: unknown key, ignored (did you mean \"region\"?)") !=
        std::string::npos);
  CHECK(r.err.find("wJalrXUtnFEMI") == std::string::npos);
  CHECK(r.err.find("AKIAIOSFODNN7EXAMPLE") == std::string::npos);
}

TEST_CASE("check-config: warnings on stderr, valid file exits 0, secrets never printed") {
  auto f = write("warn.json",
                 R"({"inputs":{"sqs_collector":{"id":"1","services":{"cloudtrail":{"encoding":"gzip"}},)"
                 R"("credentials":{"aws_access_key_id":"AKIAIOSFODNN7EXAMPLE","aws_secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},)"
                 R"("base_url":"https://sqs.eu-west-1.amazonaws.com/123456789012/q"}}})");
  auto r = run("check-config " + q(f));
  INFO(r.err);
  CHECK(r.rc == 0);
  CHECK(r.err.find("warning: inputs.sqs_collector.services.cloudtrail.encoding: not used by aws_sqs_cloudtrail") !=
        std::string::npos);
  CHECK(r.out.find("region eu-west-1") != std::string::npos);
  CHECK(r.out.find("AKIA...") != std::string::npos);
  CHECK((r.out + r.err).find("wJalrXUtnFEMI") == std::string::npos);
  CHECK((r.out + r.err).find("AKIAIOSFODNN7EXAMPLE") == std::string::npos);
}

TEST_CASE("check-config: a missing file and usage errors") {
  auto r = run("check-config " + q(work / "nope.json"));
  CHECK(r.rc == 2);
  CHECK(r.err.find("nope.json: cannot open the collector file") != std::string::npos);
  CHECK(run("check-config").rc != 0);
}
