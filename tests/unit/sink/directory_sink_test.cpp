// Unit tests for DirectorySink: one file per tag, appends, flush, file names.
#include "ctsqs/sink/directory_sink.hpp"

#include "catch.hpp"
#include "test_paths.hpp"

#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
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

// A sink that must open.
std::unique_ptr<DirectorySink> open_sink(const DirectorySinkOptions& o) {
  Diagnostics diag;
  auto s = DirectorySink::create(o, diag);
  INFO(diag.message);
  REQUIRE(s.has_value());
  return std::move(*s);
}

TEST_CASE("DirectorySink::create fails, naming the directory, when it cannot be created", "[sink]") {
  const auto base = std::filesystem::path(CTSQS_BINARY_DIR) / "test-tmp" / "directory_sink_blocked";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  { std::ofstream(base / "file") << "x"; }  // a file where a parent directory should be
  DirectorySinkOptions o;
  o.directory = base / "file" / "out";
  Diagnostics diag;
  auto s = DirectorySink::create(o, diag);
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error() == boost::system::errc::not_a_directory);
  CHECK(diag.message.find((base / "file" / "out").string()) != std::string::npos);
  std::filesystem::remove_all(base);
}

TEST_CASE("DirectorySink writes one file per tag and appends across runs", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
  const auto dir = std::filesystem::path(CTSQS_BINARY_DIR) / "test-tmp" / "directory_sink";
  std::filesystem::remove_all(dir);
  for (int run = 0; run < 2; ++run) {
    DirectorySinkOptions o;
    o.directory = dir;
    auto made = open_sink(o);
  DirectorySink& s = *made;
    REQUIRE(s.write(ev("cloud.aws.cloudtrail.s3", R"({"n":1})"), sd));
    REQUIRE(s.write(ev("cloud.aws.cloudtrail.iam", R"({"n":2})"), sd));
    REQUIRE(s.write(ev("cloud.aws.cloudtrail.s3", R"({"n":3})"), sd));
    REQUIRE(s.flush(sd));
    CHECK(s.path_for("cloud.aws.cloudtrail.s3") == dir / "cloud.aws.cloudtrail.s3.jsonl");
  }
  const std::string one = "{\"tag\":\"cloud.aws.cloudtrail.s3\",\"n\":1}\n{\"tag\":\"cloud.aws.cloudtrail.s3\",\"n\":3}\n";
  CHECK(slurp(dir / "cloud.aws.cloudtrail.s3.jsonl") == one + one);
  CHECK(slurp(dir / "cloud.aws.cloudtrail.iam.jsonl") ==
        "{\"tag\":\"cloud.aws.cloudtrail.iam\",\"n\":2}\n{\"tag\":\"cloud.aws.cloudtrail.iam\",\"n\":2}\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("DirectorySink file names cannot escape the directory, devo uses .log", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
  const auto dir = std::filesystem::path(CTSQS_BINARY_DIR) / "test-tmp" / "directory_sink2";
  std::filesystem::remove_all(dir);
  DirectorySinkOptions o;
  o.directory = dir;
  o.format = OutputFormat::devo;
  o.line.hostname = "h";
  o.max_open_files = 1;
  auto made = open_sink(o);
  DirectorySink& s = *made;
  CHECK(s.path_for("../../etc/passwd") == dir / "_.._.._etc_passwd.log");
  CHECK(s.path_for("") == dir / "_.log");
  REQUIRE(s.write(ev("a", R"({"x":1})"), sd));
  REQUIRE(s.write(ev("b", R"({"x":2})"), sd));  // closes "a" (max_open_files = 1)
  REQUIRE(s.write(ev("a", R"({"x":3})"), sd));
  REQUIRE(s.flush(sd));
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
  Diagnostics sd;  // the sink's report of a failure
  const auto dir = fresh_dir("directory_sink_torn");
  std::filesystem::create_directories(dir);
  const auto file = dir / "t.jsonl";
  {
    std::ofstream f(file, std::ios::binary);
    f << "{\"tag\":\"t\",\"n\":1}\n{\"tag\":\"t\",\"n\":";  // a write that died half-way
  }
  DirectorySinkOptions o;
  o.directory = dir;
  auto made = open_sink(o);
  DirectorySink& s = *made;
  REQUIRE(s.write(ev("t", R"({"n":2})"), sd));
  REQUIRE(s.flush(sd));
  CHECK(slurp(file) == "{\"tag\":\"t\",\"n\":1}\n{\"tag\":\"t\",\"n\":2}\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("DirectorySink: a write cut short by a file-size limit leaves no torn line", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
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
    auto made = open_sink(o);
  DirectorySink& s = *made;
    int failed_at = -1;
    for (int i = 0; i < 20 && failed_at < 0; ++i)
      if (!s.write(ev("t", "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + big + "\"}"), sd)) failed_at = i;
    const bool efbig = sd.message == "write " + (dir / "t.jsonl").string() + ": File too large";  // names the file
    ::setrlimit(RLIMIT_FSIZE, &original);  // room again: the next line must start a fresh line
    const bool after = s.write(ev("t", R"({"n":"after"})"), sd) && s.flush(sd);
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
  Diagnostics sd;  // the sink's report of a failure
  const auto parent = fresh_dir("directory_sink_perms");
  const auto dir = parent / "a" / "b";
  DirectorySinkOptions o;
  o.directory = dir;
  auto made = open_sink(o);
  DirectorySink& s = *made;
  REQUIRE(s.write(ev("t", R"({"n":1})"), sd));
  REQUIRE(s.flush(sd));
  namespace fs = std::filesystem;
  CHECK(fs::status(parent / "a").permissions() == fs::perms::owner_all);
  CHECK(fs::status(dir).permissions() == fs::perms::owner_all);
  CHECK(fs::status(dir / "t.jsonl").permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  fs::remove_all(parent);
}

TEST_CASE("DirectorySink refuses a symbolic link planted in a file's place, naming it", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
  const auto dir = fresh_dir("directory_sink_symlink");
  std::filesystem::create_directories(dir);
  const auto target = dir / "elsewhere.txt";
  { std::ofstream f(target); }
  std::filesystem::create_symlink(target, dir / "t.jsonl");
  DirectorySinkOptions o;
  o.directory = dir;
  auto made = open_sink(o);
  DirectorySink& s = *made;
  (void)s.write(ev("t", R"({"n":1})"), sd);
  CHECK_FALSE(s.flush(sd));
  CHECK(sd.message == "open " + (dir / "t.jsonl").string() + ": is a symbolic link, refused");
  CHECK(slurp(target).empty());
  std::filesystem::remove_all(dir);
}

namespace {
// One byte over a pipe: the two processes of a test take turns.
void signal_peer(int fd) {
  const char c = 1;
  (void)!::write(fd, &c, 1);
}
bool wait_peer(int fd) {
  char c = 0;
  return ::read(fd, &c, 1) == 1;
}
std::vector<std::string> lines_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}
}  // namespace

TEST_CASE("DirectorySink: a process's failed write cuts only its own bytes, never another's lines", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
  // `run --output D` and `backfill --output D` append to the same files. One of them fails a
  // write (here a file-size limit of its own) after the other appended and acknowledged lines:
  // cutting back to where *it* last ended would delete the other's delivered lines.
  const auto dir = fresh_dir("directory_sink_two_writers");
  const std::string pad(100, 'p');
  int to_child[2], to_parent[2];
  REQUIRE(::pipe(to_child) == 0);
  REQUIRE(::pipe(to_parent) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit small{};
    ::getrlimit(RLIMIT_FSIZE, &small);
    small.rlim_cur = 1000;
    ::setrlimit(RLIMIT_FSIZE, &small);
    DirectorySinkOptions o;
    o.directory = dir;
    auto made = open_sink(o);
  DirectorySink& s = *made;
    const bool first = s.write(ev("t", R"({"n":"child-1"})"), sd) && s.flush(sd);
    signal_peer(to_parent[1]);
    if (!wait_peer(to_child[0])) std::_Exit(3);
    // The file is now past this process's limit: this write fails with EFBIG.
    const bool failed = !(s.write(ev("t", R"({"n":"child-2"})"), sd) && s.flush(sd));
    const bool efbig = sd.message.find("File too large") != std::string::npos;
    std::_Exit(first && failed && efbig ? 0 : 1);
  }
  REQUIRE(wait_peer(to_parent[0]));
  {
    DirectorySinkOptions o;
    o.directory = dir;
    auto made = open_sink(o);
  DirectorySink& s = *made;
    for (int i = 0; i < 20; ++i) REQUIRE(s.write(ev("t", "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + pad + "\"}"), sd));
    REQUIRE(s.flush(sd));  // acknowledged: these lines must stay
  }
  signal_peer(to_child[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const auto lines = lines_of(slurp(dir / "t.jsonl"));
  REQUIRE(lines.size() == 21);
  CHECK(lines[0] == R"({"tag":"t","n":"child-1"})");
  for (int i = 0; i < 20; ++i)
    CHECK(lines[static_cast<std::size_t>(i) + 1] ==
          "{\"tag\":\"t\",\"n\":" + std::to_string(i) + ",\"pad\":\"" + pad + "\"}");
  std::filesystem::remove_all(dir);
}

TEST_CASE("DirectorySink: the torn-tail repair never cuts a line another process is still writing", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
  // Another writer holds the file's lock (flock, as every DirectorySink takes it around a
  // write) and has written half a line: it is not torn, it is being written.
  const auto dir = fresh_dir("directory_sink_writing");
  std::filesystem::create_directories(dir);
  const auto file = dir / "t.jsonl";
  int to_parent[2];
  REQUIRE(::pipe(to_parent) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) std::_Exit(2);
    const std::string head = R"({"tag":"t","n":)", tail = "\"other\"}\n";
    if (::write(fd, head.data(), head.size()) != static_cast<ssize_t>(head.size())) std::_Exit(2);
    signal_peer(to_parent[1]);
    ::usleep(500 * 1000);
    if (::write(fd, tail.data(), tail.size()) != static_cast<ssize_t>(tail.size())) std::_Exit(2);
    std::_Exit(0);  // closing the descriptor releases the lock
  }
  REQUIRE(wait_peer(to_parent[0]));
  {
    DirectorySinkOptions o;
    o.directory = dir;
    auto made = open_sink(o);
  DirectorySink& s = *made;
    REQUIRE(s.write(ev("t", R"({"n":"mine"})"), sd));
    REQUIRE(s.flush(sd));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(to_parent[0]);
  ::close(to_parent[1]);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const auto lines = lines_of(slurp(file));
  CHECK(lines == std::vector<std::string>{R"({"tag":"t","n":"other"})", R"({"tag":"t","n":"mine"})"});
  std::filesystem::remove_all(dir);
}

TEST_CASE("DirectorySink: two processes appending at once leave every line whole", "[sink]") {
  Diagnostics sd;  // the sink's report of a failure
  const auto dir = fresh_dir("directory_sink_concurrent");
  const std::string pad(300, 'q');
  auto write_lines = [&](const std::string& who) {
    DirectorySinkOptions o;
    o.directory = dir;
    o.sync = false;
    o.buffer_bytes = 700;  // a write every few lines
    auto made = open_sink(o);
  DirectorySink& s = *made;
    for (int i = 0; i < 2000; ++i)
      if (!s.write(ev("t", "{\"who\":\"" + who + "\",\"n\":" + std::to_string(i) + ",\"pad\":\"" + pad + "\"}"), sd))
        return false;
    return static_cast<bool>(s.flush(sd));
  };
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) std::_Exit(write_lines("child") ? 0 : 1);
  CHECK(write_lines("parent"));
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::map<std::string, int> next{{"child", 0}, {"parent", 0}};
  std::size_t bad = 0;
  for (const auto& l : lines_of(slurp(dir / "t.jsonl"))) {
    const auto who = l.find("\"who\":\"child\"") != std::string::npos ? "child" : "parent";
    if (l != "{\"tag\":\"t\",\"who\":\"" + std::string(who) + "\",\"n\":" + std::to_string(next[who]++) +
                 ",\"pad\":\"" + pad + "\"}")
      ++bad;
  }
  CHECK(bad == 0);
  CHECK(next["child"] == 2000);
  CHECK(next["parent"] == 2000);
  std::filesystem::remove_all(dir);
}

TEST_CASE("DirectorySink::write_lines: lines formatted elsewhere go to their tag's file, in order with events",
          "[sink]") {
  Diagnostics sd;
  const auto dir = std::filesystem::path(CTSQS_BINARY_DIR) / "test-tmp" / "directory_sink_lines";
  std::filesystem::remove_all(dir);
  {
    DirectorySinkOptions o;
    o.directory = dir;
    o.buffer_bytes = 64;  // the lines below drain the buffers more than once
    auto s = open_sink(o);
    REQUIRE(s->write(ev("a", R"({"n":1})"), sd));
    REQUIRE(s->write_lines("a", "{\"tag\":\"a\",\"n\":2}\n{\"tag\":\"a\",\"n\":3}\n", 2, sd));
    REQUIRE(s->write_lines("b", "{\"tag\":\"b\",\"n\":4}\n", 1, sd));
    REQUIRE(s->write(ev("a", R"({"n":5})"), sd));
    REQUIRE(s->flush(sd));
    CHECK(s->lines_written() == 5);
  }
  CHECK(slurp(dir / "a.jsonl") ==
        "{\"tag\":\"a\",\"n\":1}\n{\"tag\":\"a\",\"n\":2}\n{\"tag\":\"a\",\"n\":3}\n{\"tag\":\"a\",\"n\":5}\n");
  CHECK(slurp(dir / "b.jsonl") == "{\"tag\":\"b\",\"n\":4}\n");
  std::filesystem::remove_all(dir);
}
