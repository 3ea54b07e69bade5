// Integration: the ctsqs binary against the real peers when its output fails for good — a stdout
// reader that exits, a stdout that is always full: the process ends with exit 1 and a clear
// message (not killed by SIGPIPE, not retrying forever), releases what it held, deletes nothing
// it did not deliver.
#include "collector_helpers.hpp"

#include "catch.hpp"

#include <poll.h>

using namespace ctsqs::test;
using namespace std::chrono_literals;

namespace {

const std::string kExternalId = "ext-out-31";

PeersOptions peers_options() { return {.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", kExternalId}}}; }

/// `argv` with stdout into a pipe whose read end the caller gets; stderr to `err`.
class PipedChild {
 public:
  PipedChild(const std::vector<std::string>& argv, const fs::path& err) {
    int p[2];
    if (::pipe(p) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    read_fd_ = p[0];
    try {
      pid_ = spawn_child(argv, fa);
    } catch (...) {
      ::close(p[0]);
      ::close(p[1]);
      throw;
    }
    ::close(p[1]);
  }
  ~PipedChild() {
    close_reader();
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  /// Reads until at least one whole line arrived (or `timeout`); what was read.
  std::string read_first_line(std::chrono::seconds timeout) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (got.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd pf{read_fd_, POLLIN, 0};
      if (::poll(&pf, 1, 100) <= 0) continue;
      const ssize_t n = ::read(read_fd_, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
  /// The consumer exits: every later write of the child fails with EPIPE (or SIGPIPE).
  void close_reader() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
  }
  /// Exit code, 128+signal when killed by one, -1 when it outlived `timeout` (then killed).
  int wait(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(50ms);
    }
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
};

/// Messages in the queue (visible, not visible), once none is hidden or after `within`.
std::pair<long, long> settled_depth(const Peers& peers, std::chrono::seconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    const auto d = queue_depth(peers, "ct-s3-events");
    if (d.second == 0 || std::chrono::steady_clock::now() > deadline) return d;
    std::this_thread::sleep_for(200ms);
  }
}

}  // namespace

TEST_CASE("cli run: a stdout reader that exits ends the run with exit 1, its messages released",
          "[integration][cli]") {
  Peers peers(peers_options());
  seed_or_throw(peers, {"--files", "12", "--records", "20", "--routes", "s3", "--drop-test-events"});
  // Each object takes a while, so the reader is gone long before the later messages are written.
  peers.gate_add_faults(R"([{"service":"s3","delayMs":300}])");
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId));
  PipedChild c({ctsqs_exe().string(), "run", "--config", cfg.string(), "--output", "-", "--format", "raw",
                "--messages-in-flight", "2", "--max-messages", "1", "--retry-backoff", "20"},
               tmp.path / "run.err");
  const auto first = c.read_first_line(60s);
  REQUIRE(first.find('\n') != std::string::npos);  // it delivered; now the consumer goes away
  c.close_reader();
  const int rc = c.wait(60s);
  const auto err = read_file(tmp.path / "run.err");
  INFO(err);
  CHECK(rc == 1);  // not 128+SIGPIPE, not running on
  CHECK(err.find("Broken pipe") != std::string::npos);
  CHECK(err.find("output failed") != std::string::npos);
  // What was not delivered is back in the queue at once (visibility 0), not hidden or deleted.
  const auto [visible, hidden] = settled_depth(peers, 2s);
  CHECK(hidden == 0);
  CHECK(visible >= 1);
  CHECK(visible < 12);  // what reached the pipe before the reader left was delivered and deleted
}

TEST_CASE("cli drain: a stdout that is always full ends the drain with exit 1, nothing deleted",
          "[integration][cli]") {
  Peers peers(peers_options());
  // Each message comes back a few times before the drain gives up: keep the dead-letter queue out.
  seed_or_throw(peers, {"--files", "3", "--records", "10", "--routes", "s3", "--drop-test-events",
                        "--max-receive-count", "100"});
  TempDir tmp;
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId,
                                   R"("on_sink_failure":{"give_up_after_flushes":3,"give_up_after":"2s"})"));
  Child c({ctsqs_exe().string(), "drain", "--config", cfg.string(), "--output", "-", "--retry-backoff", "1"},
          "/dev/full", tmp.path / "drain.err");
  const auto started = std::chrono::steady_clock::now();
  const int rc = c.wait(120s);
  const auto err = read_file(tmp.path / "drain.err");
  INFO(err);
  CHECK(rc == 1);
  CHECK(std::chrono::steady_clock::now() - started < 60s);
  CHECK(err.find("No space left on device") != std::string::npos);
  CHECK(err.find("keeps failing") != std::string::npos);
  // Released, none deleted (one hidden for its retry backoff, 1 s doubled per receive, before the
  // end comes back later).
  const auto [visible, hidden] = settled_depth(peers, 20s);
  CHECK(visible == 3);
  CHECK(hidden == 0);
}

TEST_CASE("cli drain: a directory file that can no longer grow (ulimit -f) ends the drain, naming the file",
          "[integration][cli]") {
  // One tag's file is past the file-size limit (EFBIG on every append) while the other tags'
  // files and the heartbeats still take writes: their good flushes must not keep the drain
  // going for ever, as a full disk would not.
  Peers peers(peers_options());
  TempDir tmp;
  const auto corpus = tmp.path / "corpus";
  fs::create_directories(corpus);
  for (int f = 0; f < 6; ++f) {
    const std::string source = f % 2 == 0 ? "s3.amazonaws.com" : "iam.amazonaws.com";
    std::string doc = R"({"Records":[)";
    for (int r = 0; r < 5; ++r)
      doc += std::string(r ? "," : "") + R"({"eventVersion":"1.08","eventSource":")" + source +
             R"(","eventName":"Call","awsRegion":"us-east-1","eventID":"f)" + std::to_string(f) + "-r" +
             std::to_string(r) + R"("})";
    write_text(corpus / ("file" + std::to_string(f) + ".json"), doc + "]}");
  }
  seed_or_throw(peers, {"--routes", "s3", "--drop-test-events", "--max-receive-count", "100", corpus.string()});
  const auto out = tmp.path / "out";
  fs::create_directories(out);
  const auto full = out / "cloud.aws.cloudtrail.s3.jsonl";
  write_text(full, std::string(40000, 'x') + "\n");  // past the 32 KiB limit below
  const auto cfg = tmp.path / "c.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", kExternalId,
                                   R"("heartbeat":{"enabled":true,"interval":"1s"},)"
                                   R"("on_sink_failure":{"give_up_after_flushes":3,"give_up_after":"2s"})"));
  // As a user would: `ulimit -f 64` (512-byte blocks) in the shell that starts the drain.
  Child c({"/bin/sh", "-c", "ulimit -f 64 && exec \"$0\" \"$@\"", ctsqs_exe().string(), "drain", "--config",
           cfg.string(), "--output", out.string(), "--format", "raw", "--retry-backoff", "1"},
          tmp.path / "drain.out", tmp.path / "drain.err");
  const int rc = c.wait(75s);
  const auto err = read_file(tmp.path / "drain.err");
  INFO(err);
  REQUIRE(rc != -1);  // it ended
  CHECK(rc == 1);
  CHECK(err.find("keeps failing (write " + full.string() + ": File too large") != std::string::npos);
  CHECK(err.find("output failed: write " + full.string() + ": File too large") != std::string::npos);
  // Each failed flush says why, not only "sink failed to deliver".
  CHECK(err.find("sink flush failed (write " + full.string() + ": File too large") != std::string::npos);
  // None of the s3 messages was deleted (iam ones may have been, or released with them).
  const auto [visible, hidden] = settled_depth(peers, 20s);
  CHECK(visible + hidden >= 3);
}

namespace {

// `files` CloudTrail log files of `records` records each (about 300 bytes a line) under `dir`.
void write_logs(const fs::path& dir, int files, int records) {
  fs::create_directories(dir);
  for (int f = 0; f < files; ++f) {
    std::string body = R"({"Records":[)";
    for (int r = 0; r < records; ++r) {
      if (r) body += ',';
      body += R"({"eventSource":"s3.amazonaws.com","f":)" + std::to_string(f) + R"(,"r":)" + std::to_string(r) +
              R"(,"pad":")" + std::string(200, 'x') + R"("})";
    }
    write_text(dir / (std::to_string(f) + ".json"), body + "]}");
  }
}

}  // namespace

// `ctsqs decode` with several threads writes on its decoding threads: a failed write there must
// still end the run with exit 1 and the output's error, not a signal, a hang or exit 0.
TEST_CASE("cli decode: threads writing to a full disk or a reader that left end with exit 1, naming the output",
          "[integration][cli]") {
  TempDir tmp;
  write_logs(tmp.path / "logs", 6, 3000);  // about 1 MB of lines a file
  {
    Child c({ctsqs_exe().string(), "decode", "-q", "-j", "3", (tmp.path / "logs").string()}, "/dev/full",
            tmp.path / "full.err");
    const int rc = c.wait(60s);
    const auto err = read_file(tmp.path / "full.err");
    INFO(err);
    CHECK(rc == 1);
    CHECK(err.find("ctsqs decode: output failed: write to fd 1: No space left on device") != std::string::npos);
  }
  {
    PipedChild c({ctsqs_exe().string(), "decode", "-q", "-j", "3", (tmp.path / "logs").string()},
                 tmp.path / "pipe.err");
    REQUIRE(c.read_first_line(60s).find('\n') != std::string::npos);
    c.close_reader();
    const int rc = c.wait(60s);
    const auto err = read_file(tmp.path / "pipe.err");
    INFO(err);
    CHECK(rc == 1);  // not 128+SIGPIPE
    CHECK(err.find("ctsqs decode: output failed: write to fd 1: Broken pipe") != std::string::npos);
  }
}
