// Unit tests for DirectorySink: one file per tag, appends, flush, file names.
#include "ctsqs/sink/directory_sink.hpp"

#include "catch.hpp"
#include "test_paths.hpp"

#include <fstream>
#include <sstream>

using namespace ctsqs;

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
Event ev(std::string tag, std::string rec) {
  Event e;
  e.tag = std::move(tag);
  e.record = rec;
  e.columns = rec.substr(1, rec.size() - 2);
  return e;
}
}  // namespace

TEST_CASE("DirectorySink writes one file per tag and appends across runs", "[sink]") {
  const auto dir = std::filesystem::path(CTSQS_BINARY_DIR) / "test-tmp" / "directory_sink";
  std::filesystem::remove_all(dir);
  for (int run = 0; run < 2; ++run) {
    DirectorySinkOptions o;
    o.directory = dir;
    DirectorySink s(o);
    REQUIRE(s.write(ev("cloud.aws.cloudtrail.s3", R"({"n":1})")));
    REQUIRE(s.write(ev("cloud.aws.cloudtrail.iam", R"({"n":2})")));
    REQUIRE(s.write(ev("cloud.aws.cloudtrail.s3", R"({"n":3})")));
    REQUIRE(s.flush());
    CHECK(s.path_for("cloud.aws.cloudtrail.s3") == dir / "cloud.aws.cloudtrail.s3.jsonl");
  }
  const std::string one = "{\"tag\":\"cloud.aws.cloudtrail.s3\",\"n\":1}\n{\"tag\":\"cloud.aws.cloudtrail.s3\",\"n\":3}\n";
  CHECK(slurp(dir / "cloud.aws.cloudtrail.s3.jsonl") == one + one);
  CHECK(slurp(dir / "cloud.aws.cloudtrail.iam.jsonl") ==
        "{\"tag\":\"cloud.aws.cloudtrail.iam\",\"n\":2}\n{\"tag\":\"cloud.aws.cloudtrail.iam\",\"n\":2}\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("DirectorySink file names cannot escape the directory, devo uses .log", "[sink]") {
  const auto dir = std::filesystem::path(CTSQS_BINARY_DIR) / "test-tmp" / "directory_sink2";
  std::filesystem::remove_all(dir);
  DirectorySinkOptions o;
  o.directory = dir;
  o.format = OutputFormat::devo;
  o.line.hostname = "h";
  o.max_open_files = 1;
  DirectorySink s(o);
  CHECK(s.path_for("../../etc/passwd") == dir / "_.._.._etc_passwd.log");
  CHECK(s.path_for("") == dir / "_.log");
  REQUIRE(s.write(ev("a", R"({"x":1})")));
  REQUIRE(s.write(ev("b", R"({"x":2})")));  // closes "a" (max_open_files = 1)
  REQUIRE(s.write(ev("a", R"({"x":3})")));
  REQUIRE(s.flush());
  CHECK(slurp(dir / "a.log") == "<14>Jan 01 00:00:00 h a: {\"x\":1}\n<14>Jan 01 00:00:00 h a: {\"x\":3}\n");
  CHECK(slurp(dir / "b.log") == "<14>Jan 01 00:00:00 h b: {\"x\":2}\n");
  std::filesystem::remove_all(dir);
}
