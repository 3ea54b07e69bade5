// The `ctsqs decode` command end to end: the built binary on the example logs, stdin, bad inputs,
// output directory, service filter, formats, exit codes and --help.
#include "catch.hpp"
#include "cli_run.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace ctsqs::test::cli;

namespace {

const fs::path logs = src / "examples" / "logs";
const WorkDir work_dir("cli_decode");
const fs::path& work = work_dir.path();

Run run(const std::string& args, const std::string& stdin_file = "/dev/null") {
  return run_ctsqs(work, args, stdin_file);
}

fs::path find_log(std::string_view part) {
  for (const auto& e : fs::recursive_directory_iterator(logs))
    if (e.is_regular_file() && e.path().string().find(part) != std::string::npos) return e.path();
  FAIL("no example log matching " << part);
  return {};
}

}  // namespace

TEST_CASE("decode the example logs: flat lines, summary, exit 0", "[cli]") {
  auto r = run("decode " + q(logs));
  INFO(r.err);
  CHECK(r.rc == 0);
  const auto lines = r.lines();
  CHECK(lines.size() == 16);
  for (const auto& l : lines) {
    const auto v = boost::json::parse(l);
    const std::string tag(v.at("tag").as_string());
    CHECK(tag.rfind("cloud.aws.cloudtrail.", 0) == 0);
  }
  CHECK(r.err.find("5 objects (4 decoded, 1 skipped, 0 bad), 16 events written") != std::string::npos);
  CHECK(r.err.find("cloud.aws.cloudtrail.insights: 2") != std::string::npos);
  CHECK(r.err.find("(digest)") != std::string::npos);
  CHECK(r.err.find('\r') == std::string::npos);  // no progress display when stderr is a file
}

TEST_CASE("raw and devo formats", "[cli]") {
  const auto file = find_log("us-west-2");
  auto raw = run("decode --format raw " + q(file));
  CHECK(raw.rc == 0);
  for (const auto& l : raw.lines()) {
    const auto v = boost::json::parse(l);
    CHECK(v.at("event").is_object());
  }
  auto devo = run("decode -f devo --hostname relay-7 " + q(file));
  CHECK(devo.rc == 0);
  REQUIRE(devo.lines().size() == 3);
  const std::string first = devo.lines()[0];
  CHECK(first.rfind("<14>", 0) == 0);
  CHECK(first.find(" relay-7 cloud.aws.cloudtrail.ssm: {\"eventVersion\"") == 19);
}

TEST_CASE("service filter and output directory", "[cli]") {
  const auto dir = work / "out";
  fs::remove_all(dir);
  auto r = run("decode --services s3,IAM,insights --output " + q(dir) + " " + q(logs));
  INFO(r.err);
  CHECK(r.rc == 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("filtered out by --services: 11") != std::string::npos);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"cloud.aws.cloudtrail.iam.jsonl", "cloud.aws.cloudtrail.insights.jsonl",
                                          "cloud.aws.cloudtrail.s3.jsonl"});
  const std::string s3 = slurp(dir / "cloud.aws.cloudtrail.s3.jsonl");
  CHECK(std::count(s3.begin(), s3.end(), '\n') == 2);
}

TEST_CASE("stdin is read with -", "[cli]") {
  auto r = run("decode -", find_log("eu-west-1").string());
  CHECK(r.rc == 0);
  CHECK(r.lines().size() == 5);
  CHECK(r.err.find("1 objects (1 decoded") != std::string::npos);
}

TEST_CASE("bad inputs give exit 1 with errors while good inputs are fully processed", "[cli]") {
  const auto dir = work / "mixed";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(find_log("Ex4mpLe0us1a"), dir / "a-good.json.gz");
  std::string gz = slurp(find_log("eu-west-1"));
  gz.resize(gz.size() / 2);
  std::ofstream(dir / "b-truncated.json.gz", std::ios::binary) << gz;
  std::ofstream(dir / "c-bad.json") << "{\"Records\":[{\"eventSource\":\"s3.amazonaws.com\"},{\"a\":nope}]}";
  std::ofstream(dir / "d-ignored.txt") << "not a log";
  fs::copy_file(find_log("us-west-2"), dir / "e-good.json");
  auto r = run("decode " + q(dir) + " " + q(work / "does-not-exist.json"));
  INFO(r.err);
  CHECK(r.rc == 1);
  // Both good files in full, the record before the bad one, and what the truncated file yielded
  // before its end (the summary says how many).
  const auto at = r.err.find("b-truncated.json.gz:");
  REQUIRE(at != std::string::npos);
  const auto tail = r.err.substr(at);
  const auto semi = tail.find("; ");
  REQUIRE(semi != std::string::npos);
  const int from_truncated = std::stoi(tail.substr(semi + 2));
  CHECK(r.lines().size() == static_cast<std::size_t>(6 + 3 + 1 + from_truncated));
  CHECK(r.err.find("5 objects (2 decoded, 0 skipped, 3 bad)") != std::string::npos);
  CHECK(r.err.find("b-truncated.json.gz: the object ends inside gzip member") != std::string::npos);
  CHECK(r.err.find("c-bad.json: invalid JSON") != std::string::npos);
  CHECK(r.err.find("(record index 1)") != std::string::npos);
  CHECK(r.err.find("1 event from this object was already emitted") != std::string::npos);
  CHECK(r.err.find("does-not-exist.json: no such file or directory") != std::string::npos);
}

TEST_CASE("worker threads: the ordered output equals one thread's, unordered the same lines, bad inputs in input order", "[cli]") {
  const auto dir = work / "threads";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::recursive_directory_iterator(logs))
    if (e.is_regular_file() && e.path().filename().string().find("CloudTrail_") != std::string::npos &&
        (e.path().extension() == ".gz" || e.path().extension() == ".json"))
      fs::copy_file(e.path(), dir / e.path().filename(), fs::copy_options::overwrite_existing);
  std::ofstream(dir / "a-bad.json") << "{\"Records\":[1]}";
  std::ofstream(dir / "z-bad.json") << "[]";
  const auto one = run("decode --threads 1 " + q(dir));
  const auto ordered = run("decode --threads 3 --ordered " + q(dir));
  const auto any = run("decode -j 3 " + q(dir));
  INFO(one.err);
  CHECK(one.rc == 1);
  CHECK(one.lines().size() >= 10);
  CHECK(ordered.rc == 1);
  CHECK(ordered.out == one.out);
  CHECK(ordered.err == one.err);
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  CHECK(sorted(any.lines()) == sorted(one.lines()));
  CHECK(any.err == one.err);  // the summary lists bad inputs in input order, however they finished
  CHECK(one.err.find("a-bad.json") < one.err.find("z-bad.json"));
}

TEST_CASE("usage errors exit 2, --help documents every option", "[cli]") {
  CHECK(run("decode").rc == 2);
  CHECK(run("decode --format xml " + q(logs)).rc == 2);
  CHECK(run("decode --routing-template 'x.{nope}' " + q(logs)).rc == 2);
  CHECK(run("decode --bogus " + q(logs)).rc == 2);
  auto h = run("decode --help");
  CHECK(h.rc == 0);
  for (const char* opt : {"--format", "--output", "--services", "--routing-template", "--hostname",
                          "--max-object-size", "--max-record-size", "--quiet", "PATH", "Exit status"})
    CHECK(h.out.find(opt) != std::string::npos);
}

TEST_CASE("decode with a service option: GuardDuty exports and Firehose objects", "[cli]") {
  auto gd = run("decode --service aws_sqs_guard_duty " + q(logs));
  INFO(gd.err);
  CHECK(gd.rc == 0);
  REQUIRE(gd.lines().size() == 3);  // only the *.jsonl.gz export, not the CloudTrail files
  for (const auto& l : gd.lines()) {
    const auto v = boost::json::parse(l);
    CHECK(v.at("tag").as_string() == "cloud.aws.guardduty.findings");
    CHECK(v.as_object().contains("service_action_actionType"));
  }
  CHECK(gd.lines()[1].find(R"("service_action_awsApiCallAction_api":"StopLogging")") != std::string::npos);

  auto ck = run("decode --service cloudtrail_kinesis -f raw " + q(logs / "firehose" / "cloudtrail"));
  INFO(ck.err);
  CHECK(ck.rc == 0);
  CHECK(ck.lines().size() == 4);  // the CONTROL_MESSAGE gives none
  CHECK(ck.err.find("cloud.aws.cloudtrail.guardduty: 1") != std::string::npos);

  auto gk = run("decode --service aws_sqs_guard_duty_kinesis --routing-template 'cloud.aws.guardduty.{account}' " +
                q(logs / "firehose" / "guardduty"));
  INFO(gk.err);
  CHECK(gk.rc == 0);
  CHECK(gk.err.find("cloud.aws.guardduty.111122223333: 2") != std::string::npos);

  // A CloudTrail file is not a Firehose object: exit 1, the error names the file and the value.
  const auto trail = find_log("us-west-2");
  auto wrong = run("decode --service cloudtrail_kinesis " + q(trail));
  CHECK(wrong.rc == 1);
  CHECK(wrong.err.find("bad " + trail.string() + ": value index 0 is a CloudTrail log file") != std::string::npos);

  auto unknown = run("decode --service aws_sqs_vpcflow " + q(trail));
  CHECK(unknown.rc == 2);
  CHECK(unknown.err.find("--service: unknown service \"aws_sqs_vpcflow\"; known services: aws_sqs_cloudtrail") !=
        std::string::npos);
  auto filter = run("decode --service guardduty --services ec2 " + q(trail));
  CHECK(filter.rc == 2);
  CHECK(filter.err.find("(GuardDuty findings) have none") != std::string::npos);
}
