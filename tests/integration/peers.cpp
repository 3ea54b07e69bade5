// The Peers fixture: free ports, start-peers.sh/stop-peers.sh on a private run dir, gate control, seeding.
#include "peers.hpp"

#include "blocking_http.hpp"
#include "detached.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <csignal>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>

extern char** environ;

namespace ctsqs::test {
namespace {

const std::filesystem::path peers_dir{CTSQS_PEERS_DIR};

// Asks the kernel for a free loopback port (bind to 0). Another process may take it before
// the peer binds; start-peers.sh then fails with "already in use" and we retry.
unsigned short free_port(std::set<unsigned short>& taken) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error(std::string("Peers: socket(): ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd);
      throw std::runtime_error(std::string("Peers: bind(127.0.0.1:0): ") + std::strerror(errno));
    }
    ::close(fd);
    auto port = ntohs(addr.sin_port);
    // Never the kit's defaults: other engineers' peers may be using them.
    if (port == 4566 || port == 4568 || port == 4576 || port == 4600) continue;
    if (taken.insert(port).second) return port;
  }
  throw std::runtime_error("Peers: no free loopback port found");
}

std::filesystem::path make_run_dir() {
  auto tmpl = (std::filesystem::temp_directory_path() / "ctsqs-peers-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("Peers: mkdtemp(" + tmpl + "): " + std::strerror(errno));
  return tmpl;
}

}  // namespace

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::filesystem::path& out_file, const std::filesystem::path& err_file) {
  // Environment: ours, with `env` overriding same-named variables.
  std::vector<std::string> vars;
  auto name_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  std::set<std::string> overridden;
  for (const auto& kv : env) overridden.insert(name_of(kv));
  for (char** e = environ; *e != nullptr; ++e)
    if (!overridden.count(name_of(*e))) vars.emplace_back(*e);
  vars.insert(vars.end(), env.begin(), env.end());
  std::vector<char*> envp, args;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (!out_file.empty())
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!err_file.empty())
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("run_process: cannot spawn " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("run_process: waitpid: " + std::string(std::strerror(errno)));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

namespace {

// Starts a detached watchdog (own session, so a kill of the test's process group spares it)
// that waits for this test process to end and then runs stop-peers.sh on the run dir: the
// peers do not outlive a test that crashed or was killed by a ctest timeout.
pid_t spawn_watchdog(const std::filesystem::path& run_dir, bool keep_run_dir) {
  // After the test process is gone, let a start-peers.sh that was still running finish (it
  // prints "endpoints in" on success, and stops what it started itself on failure), then stop.
  std::string script =
      "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; "
      "for i in $(seq 90); do grep -qE 'endpoints in|exited|not healthy|in use|unknown peer' "
      "\"$2/start-peers.out\" 2>/dev/null && break; sleep 1; done; "
      "PEERS_RUN_DIR=\"$2\" bash \"$3\" >/dev/null 2>&1; "
      "[ \"$4\" = keep ] || rm -rf \"$2\"";
  return spawn_detached({"bash", "-c", script, "ctsqs-peers-watchdog", std::to_string(::getpid()),
                         run_dir.string(), (peers_dir / "stop-peers.sh").string(),
                         keep_run_dir ? "keep" : "remove"});
}

}  // namespace

Peers::Peers(PeersOptions options) : options_(std::move(options)) {
  if (std::getenv("CTSQS_KEEP_PEERS_RUN_DIR") != nullptr) options_.keep_run_dir = true;
  std::string output;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (try_start(output)) return;
    // Only a port race is worth another try; anything else is a real failure.
    if (output.find("already in use") == std::string::npos) break;
  }
  throw std::runtime_error("Peers: start-peers.sh failed (run dir " + run_dir_.string() + "):\n" + output);
}

bool Peers::try_start(std::string& output) {
  if (!run_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(run_dir_, ec);
  }
  run_dir_ = make_run_dir();
  std::set<unsigned short> taken;
  fauxqs_port_ = free_port(taken);
  s3rver_port_ = free_port(taken);
  sqslite_port_ = free_port(taken);
  gate_port_ = free_port(taken);
  dynalite_port_ = free_port(taken);
  auto out = run_dir_ / "start-peers.out";
  // start-peers.sh records each PID before waiting for health, and stops them itself if one
  // fails; so from here on stop-peers.sh on this run dir is always right.
  started_ = true;
  watchdog_ = spawn_watchdog(run_dir_, options_.keep_run_dir);
  int rc = run_process({"bash", (peers_dir / "start-peers.sh").string()}, environment(), out, out);
  output = read_file(out);
  if (rc == 0) return true;
  stop();
  return false;
}

std::vector<std::string> Peers::environment() const {
  std::vector<std::string> env{
      "FAUXQS_PORT=" + std::to_string(fauxqs_port_),
      "S3RVER_PORT=" + std::to_string(s3rver_port_),
      "SQSLITE_PORT=" + std::to_string(sqslite_port_),
      "GATE_PORT=" + std::to_string(gate_port_),
      "DYNALITE_PORT=" + std::to_string(dynalite_port_),
      "PEERS=" + options_.peers,
      "PEERS_RUN_DIR=" + run_dir_.string(),
  };
  for (const auto& [k, v] : options_.env) env.push_back(k + "=" + v);
  return env;
}

void Peers::stop() noexcept {
  if (watchdog_ > 0) {
    // Our own child: end it first so it does not race the orderly stop below.
    ::kill(watchdog_, SIGTERM);
    int status = 0;
    while (::waitpid(watchdog_, &status, 0) < 0 && errno == EINTR) {
    }
    watchdog_ = 0;
  }
  if (!started_) return;
  started_ = false;
  try {
    auto out = run_dir_ / "stop-peers.out";
    run_process({"bash", (peers_dir / "stop-peers.sh").string()}, environment(), out, out);
  } catch (...) {
    // A destructor must not throw; the PIDs stay recorded in the kept run dir.
    return;
  }
}

Peers::~Peers() {
  stop();
  if (!options_.keep_run_dir && !run_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(run_dir_, ec);
  }
}

std::string Peers::log_tail(const std::string& peer, std::size_t max_bytes) const {
  auto text = read_file(run_dir_ / (peer + ".log"));
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

namespace {
std::string gate_call(unsigned short port, std::string method, std::string target, std::string body = {}) {
  auto res = http_call(method, port, target, std::move(body));
  if (res.status < 200 || res.status > 299)
    throw std::runtime_error("gate " + method + " " + target + ": HTTP " + std::to_string(res.status) +
                             ": " + res.body);
  return std::move(res.body);
}
}  // namespace

void Peers::gate_add_faults(const std::string& json_array) const {
  gate_call(gate_port_, "POST", "/__gate/faults", json_array);
}
void Peers::gate_clear_faults() const { gate_call(gate_port_, "DELETE", "/__gate/faults"); }
void Peers::gate_reset() const { gate_call(gate_port_, "POST", "/__gate/reset", "{}"); }
std::string Peers::gate_stats() const { return gate_call(gate_port_, "GET", "/__gate/stats"); }
std::string Peers::gate_rejects() const { return gate_call(gate_port_, "GET", "/__gate/rejects"); }

SeedResult Peers::seed(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"node", (peers_dir / "seed.mjs").string(), "--sqs-endpoint",
                                fauxqs_endpoint(), "--s3-endpoint", s3rver_endpoint()};
  argv.insert(argv.end(), args.begin(), args.end());
  static int counter = 0;
  auto tag = std::to_string(++counter);
  auto out = run_dir_ / ("seed-" + tag + ".out");
  auto err = run_dir_ / ("seed-" + tag + ".err");
  SeedResult r;
  auto env = environment();
  env.push_back("NODE_NO_WARNINGS=1");  // the SDK's Node-version notice is noise in test output
  r.exit_code = run_process(argv, env, out, err);
  r.summary = read_file(out);
  r.log = read_file(err);
  return r;
}

}  // namespace ctsqs::test
