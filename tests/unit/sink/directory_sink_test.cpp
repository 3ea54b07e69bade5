// Unit tests for DirectorySink: one file per tag, appends, flush, file names.
#include "ctsqs/sink/directory_sink.hpp"

#include "catch.hpp"
#include "test_paths.hpp"

#include <csignal>
#include <fstream>
#include <sstream>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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

namespace {
std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::path(CTSQS_BINARY_DIR) / "test-tmp" / name;
  std::filesystem::remove_all(dir);
  return dir;
}
}  // namespace

TEST_CASE("DirectorySink cuts a file's torn last line before appending to it", "[sink]") {
  const auto dir = fresh_dir("directory_sink_torn");
  std::filesystem::create_directories(dir);
  const auto file = dir / "t.jsonl";
  {
    std::ofstream f(file, std::ios::binary);
    f << "{\"tag\":\"t\",\"n\":1}\n{\"tag\":\"t\",\"n\":";  // a write that died half-way
  }
  DirectorySinkOptions o;
  o.directory = dir;
  DirectorySink s(o);
  REQUIRE(s.write(ev("t", R"({"n":2})")));
  REQUIRE(s.flush());
  CHECK(slurp(file) == "{\"tag\":\"t\",\"n\":1}\n{\"tag\":\"t\",\"n\":2}\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("DirectorySink: a write cut short by a file-size limit leaves no torn line", "[sink]") {
  const auto dir = fresh_dir("directory_sink_fsize");
  const std::string big(200, 'x');
  // In a child: the limit and the ignored SIGXFSZ must not leak into the test runner.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // as the CLI does: EFBIG is then an ordinary write error
    rlimit original{};
    ::getrlimit(RLIMIT_FSIZE, &original);
    rlimit small = original;
    small.rlim_cur = 1000;
    ::setrlimit(RLIMIT_FSIZE, &small);
    DirectorySinkOptions o;
    o.directory = dir;
    o.buffer_bytes = 1;  // every line is written at once
    DirectorySink s(o);
    int failed_at = -1;
    for (int i = 0; i < 20 && failed_at < 0; ++i)
      if (!s.write(ev("t", "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + big + "\"}"))) failed_at = i;
    const bool efbig = s.last_error().find("File too large") != std::string::npos;
    ::setrlimit(RLIMIT_FSIZE, &original);  // room again: the next line must start a fresh line
    const bool after = s.write(ev("t", R"({"n":"after"})")) && s.flush();
    std::_Exit(failed_at > 0 && efbig && after ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));  // not killed by SIGXFSZ
  CHECK(WEXITSTATUS(status) == 0);
  const auto text = slurp(dir / "t.jsonl");
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() >= 2);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    INFO(lines[i]);
    CHECK(lines[i] == "{\"tag\":\"t\",\"n\":" + std::to_string(i) + ",\"pad\":\"" + big + "\"}");
  }
  CHECK(lines.back() == "{\"tag\":\"t\",\"n\":\"after\"}");
  std::filesystem::remove_all(dir);
}

TEST_CASE("DirectorySink creates its directory 0700 and files 0600", "[sink]") {
  const auto parent = fresh_dir("directory_sink_perms");
  const auto dir = parent / "a" / "b";
  DirectorySinkOptions o;
  o.directory = dir;
  DirectorySink s(o);
  REQUIRE(s.write(ev("t", R"({"n":1})")));
  REQUIRE(s.flush());
  namespace fs = std::filesystem;
  CHECK(fs::status(parent / "a").permissions() == fs::perms::owner_all);
  CHECK(fs::status(dir).permissions() == fs::perms::owner_all);
  CHECK(fs::status(dir / "t.jsonl").permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  fs::remove_all(parent);
}

TEST_CASE("DirectorySink refuses a symbolic link planted in a file's place, naming it", "[sink]") {
  const auto dir = fresh_dir("directory_sink_symlink");
  std::filesystem::create_directories(dir);
  const auto target = dir / "elsewhere.txt";
  { std::ofstream f(target); }
  std::filesystem::create_symlink(target, dir / "t.jsonl");
  DirectorySinkOptions o;
  o.directory = dir;
  DirectorySink s(o);
  (void)s.write(ev("t", R"({"n":1})"));
  CHECK_FALSE(s.flush());
  CHECK(s.last_error() == "open " + (dir / "t.jsonl").string() + ": is a symbolic link, refused");
  CHECK(slurp(target).empty());
  std::filesystem::remove_all(dir);
}
