// Helpers of the collector integration tests: config files, the ctsqs binary, child processes,
// reading delivered events and queue depths.
#pragma once

#include "background_process.hpp"
#include "blocking_http.hpp"
#include "peers.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ctsqs::test {

namespace fs = std::filesystem;

/// The ctsqs executable of this build.
inline fs::path ctsqs_exe() {
  for (auto p : {fs::path(CTSQS_BINARY_DIR) / "ctsqs", fs::path(CTSQS_BINARY_DIR) / "cli" / "ctsqs"})
    if (fs::exists(p)) return p;
  throw std::runtime_error("ctsqs executable not found under " + std::string(CTSQS_BINARY_DIR));
}

inline void write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

/// What seed.mjs reported.
struct Seeded {
  boost::json::object summary;
  std::uint64_t records = 0;  ///< records over every uploaded object
  std::size_t objects = 0;
};

inline Seeded seed_or_throw(const Peers& peers, const std::vector<std::string>& args) {
  auto r = peers.seed(args);
  if (r.exit_code != 0)
    throw std::runtime_error("seed.mjs failed (" + std::to_string(r.exit_code) + "): " + r.log + r.summary);
  Seeded s;
  s.summary = boost::json::parse(r.summary).as_object();
  for (auto& o : s.summary.at("objects").as_array()) {
    ++s.objects;
    auto& rec = o.as_object().at("records");
    if (rec.is_int64()) s.records += static_cast<std::uint64_t>(rec.as_int64());
  }
  return s;
}

/// A collector file for queue `queue` reached through the gate, with the template's
/// cross-account role and external id. `ctsqs_extra` is merged into the `ctsqs` section.
inline std::string collector_config(const Peers& peers, const std::string& queue, const std::string& external_id,
                                    const std::string& ctsqs_extra = "") {
  const std::string gate = peers.gate_endpoint();
  std::string s = R"({"inputs":{"sqs_collector":{"id":"it-collector","services":{"aws_sqs_cloudtrail":{}},)"
                  R"("credentials":{"aws_access_key_id":"test","aws_secret_access_key":"test",)"
                  R"("aws_cross_account_role":"arn:aws:iam::123456789012:role/CtsqsReader","aws_external_id":")" +
                  external_id + R"("},"region":"us-east-1","base_url":")" + gate + "/000000000000/" + queue +
                  R"("}},"ctsqs":{"sqs":{"wait_time":"1s","visibility_timeout":"30s","visibility_extension_interval":"10s"},)"
                  R"("drain":{"empty_polls":2},)" +
                  std::string(ctsqs_extra.find("\"heartbeat\"") == std::string::npos ? R"("heartbeat":{"enabled":false},)" : "") +
                  R"("endpoints":{"sqs":")" + gate + R"(","s3":")" + gate + R"(","sts":")" + gate +
                  R"(","s3_force_path_style":true})";
  if (!ctsqs_extra.empty()) s += "," + ctsqs_extra;
  s += "}}";
  return s;
}

/// Every delivered event of a `--format raw` output directory: eventID -> times seen (CloudTrail
/// events), the ids of GuardDuty findings; also the per-tag counts.
struct Delivered {
  std::map<std::string, int> by_event_id;
  std::set<std::string> finding_ids;
  std::map<std::string, std::uint64_t> by_tag;
  std::uint64_t lines = 0;
  std::uint64_t duplicates() const {
    std::uint64_t d = 0;
    for (auto& [id, n] : by_event_id) d += static_cast<std::uint64_t>(n - 1);
    return d;
  }
};

inline void read_delivered(const fs::path& dir, Delivered& out) {
  if (!fs::exists(dir)) return;
  for (auto& e : fs::directory_iterator(dir)) {
    std::ifstream f(e.path());
    std::string line;
    while (std::getline(f, line)) {
      if (line.empty()) continue;
      auto v = boost::json::parse(line).as_object();
      const std::string tag(v.at("tag").as_string());
      ++out.by_tag[tag];
      ++out.lines;
      if (tag == "cloud.aws.guardduty.findings")
        out.finding_ids.insert(std::string(v.at("event").as_object().at("id").as_string()));
      if (tag.rfind("cloud.aws.cloudtrail.", 0) != 0) continue;  // findings, heartbeats
      ++out.by_event_id[std::string(v.at("event").as_object().at("eventID").as_string())];
    }
  }
}

/// Every eventID the seeded objects hold (read back from s3rver directly, gunzipped by node).
inline std::set<std::string> seeded_event_ids(const Peers& peers, const Seeded& s) {
  // The gzipped objects live in s3rver's data dir; let node read them (zlib) to stay independent
  // of ctsqs's own decoder.
  std::ostringstream keys;
  const std::string bucket(s.summary.at("bucket").as_string());
  for (auto& o : s.summary.at("objects").as_array()) keys << std::string(o.as_object().at("key").as_string()) << "\n";
  TempDir tmp;
  write_text(tmp.path / "keys.txt", keys.str());
  write_text(tmp.path / "ids.mjs", R"(
import zlib from "node:zlib"; import fs from "node:fs";
const [endpoint, bucket, keysFile, out] = process.argv.slice(2);
const ids = [];
for (const key of fs.readFileSync(keysFile, "utf8").split("\n").filter(Boolean)) {
  const r = await fetch(`${endpoint}/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
  if (!r.ok) throw new Error(`GET ${key}: ${r.status}`);
  const body = Buffer.from(await r.arrayBuffer());
  for (const rec of JSON.parse(zlib.gunzipSync(body).toString("utf8")).Records) ids.push(rec.eventID);
}
fs.writeFileSync(out, ids.join("\n") + "\n");
)");
  const int rc = run_process({"node", (tmp.path / "ids.mjs").string(), peers.s3rver_endpoint(), bucket,
                              (tmp.path / "keys.txt").string(), (tmp.path / "ids.txt").string()},
                             {}, tmp.path / "ids.out", tmp.path / "ids.err");
  if (rc != 0) throw std::runtime_error("reading seeded objects failed: " + read_file(tmp.path / "ids.err"));
  std::set<std::string> ids;
  std::istringstream in(read_file(tmp.path / "ids.txt"));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) ids.insert(line);
  return ids;
}

/// One SQS JSON-protocol call straight to fauxqs (unsigned); the answer's JSON object, or throws
/// naming the operation and `what` on a non-200 answer.
inline boost::json::object fauxqs_call(const Peers& peers, const std::string& operation, const boost::json::object& params,
                                       const std::string& what) {
  HttpRequest req;
  req.method = "POST";
  req.scheme = "http";
  req.host = Peers::host(peers.fauxqs_port());
  req.path = "/";
  req.set_header("Content-Type", "application/x-amz-json-1.0");
  req.set_header("X-Amz-Target", "AmazonSQS." + operation);
  req.body = boost::json::serialize(params);
  auto resp = http_exchange(req);
  if (resp.status != 200) throw std::runtime_error(operation + " " + what + ": " + resp.body);
  auto v = boost::json::parse(resp.body);
  return v.is_object() ? v.as_object() : boost::json::object{};
}

inline std::string fauxqs_queue_url(const Peers& peers, const std::string& queue) {
  return peers.fauxqs_endpoint() + "/000000000000/" + queue;
}

/// ApproximateNumberOfMessages + ApproximateNumberOfMessagesNotVisible of a queue (fauxqs direct).
inline std::pair<long, long> queue_depth(const Peers& peers, const std::string& queue) {
  auto answer = fauxqs_call(peers, "GetQueueAttributes",
                            {{"QueueUrl", fauxqs_queue_url(peers, queue)},
                             {"AttributeNames", {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}}},
                            queue);
  const auto& attrs = answer.at("Attributes").as_object();
  return {std::stol(std::string(attrs.at("ApproximateNumberOfMessages").as_string())),
          std::stol(std::string(attrs.at("ApproximateNumberOfMessagesNotVisible").as_string()))};
}

/// CreateQueue (fauxqs direct, unsigned).
inline void create_queue(const Peers& peers, const std::string& queue) {
  fauxqs_call(peers, "CreateQueue", {{"QueueName", queue}}, queue);
}

/// SendMessage to a queue (fauxqs direct, unsigned).
inline void send_message(const Peers& peers, const std::string& queue, const std::string& body) {
  fauxqs_call(peers, "SendMessage", {{"QueueUrl", fauxqs_queue_url(peers, queue)}, {"MessageBody", body}}, queue);
}

/// posix_spawn of `argv` with `fa` (destroyed here); throws when it cannot start.
inline pid_t spawn_child(const std::vector<std::string>& argv, posix_spawn_file_actions_t& fa) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + " failed");
  return pid;
}

/// A child process started with posix_spawn (stdout/stderr to files); not waited for until asked.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_ = spawn_child(argv, fa);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int sig) const { kill(pid_, sig); }
  /// Exit code (128+signal when killed); waits at most `timeout` then kills it (-1).
  int wait(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

 private:
  pid_t pid_ = -1;
};

/// Runs `ctsqs drain` to completion; returns the exit code.
inline int run_drain(const fs::path& config, const fs::path& out_dir, const fs::path& log_dir,
                     const std::vector<std::string>& extra = {}, const std::string& name = "drain") {
  std::vector<std::string> argv{ctsqs_exe().string(), "drain", "--config", config.string(), "--output",
                                out_dir.string(), "--format", "raw", "--progress", "1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Child c(argv, log_dir / (name + ".out"), log_dir / (name + ".err"));
  return c.wait(std::chrono::seconds(300));
}

}  // namespace ctsqs::test
