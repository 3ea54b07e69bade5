// Peers: RAII fixture that starts the loopback AWS test peers (tests/peers) on free ports and stops them.
#pragma once

#include "ctsqs/transport/http.hpp"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace ctsqs::test {

/// What to start and with which extra environment.
struct PeersOptions {
  /// Space-separated subset of "fauxqs s3rver sqslite gate dynalite" (start-peers.sh's PEERS);
  /// add "dynalite" for DynamoDB (the gate forwards service dynamodb to it).
  std::string peers = "fauxqs s3rver gate";
  /// Extra environment for the servers, e.g. {"GATE_STS_TTL_S","5"}, {"GATE_EXTERNAL_ID","X"},
  /// {"GATE_CREDENTIALS","AKID:SECRET"}, {"GATE_FAULTS","[...]"}, {"GATE_LOG","1"}.
  std::vector<std::pair<std::string, std::string>> env;
  /// Keep the private run directory (logs, s3rver data) after stopping, for debugging.
  /// Also kept when the environment variable CTSQS_KEEP_PEERS_RUN_DIR is set.
  bool keep_run_dir = false;
};

/// The output of a tests/peers/seed.mjs run.
struct SeedResult {
  int exit_code = -1;   ///< 0 when every queue received the expected notifications
  std::string summary;  ///< stdout: the JSON summary (see seed.mjs's header)
  std::string log;      ///< stderr
};

/// Starts the peers with tests/peers/start-peers.sh on free loopback ports and a private
/// temporary PEERS_RUN_DIR; the destructor runs stop-peers.sh on that run dir, which stops
/// exactly the PIDs this instance started (also when a test fails and unwinds; a detached
/// watchdog does the same if the test process crashes or is killed). The
/// constructor retries with new ports when a port was taken in between, and throws
/// std::runtime_error with start-peers.sh's output when the peers do not come up.
/// Not copyable or movable; not thread-safe (use it from the test's thread).
class Peers {
 public:
  explicit Peers(PeersOptions options = {});
  ~Peers();
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  unsigned short fauxqs_port() const noexcept { return fauxqs_port_; }
  unsigned short s3rver_port() const noexcept { return s3rver_port_; }
  unsigned short sqslite_port() const noexcept { return sqslite_port_; }
  unsigned short gate_port() const noexcept { return gate_port_; }
  unsigned short dynalite_port() const noexcept { return dynalite_port_; }

  /// "http://127.0.0.1:<port>" of fauxqs (SQS JSON 1.0 + SNS; no auth).
  std::string fauxqs_endpoint() const { return endpoint(fauxqs_port_); }
  /// s3rver with bucket notifications (checks the access key id only).
  std::string s3rver_endpoint() const { return endpoint(s3rver_port_); }
  /// sqslite (SQS query protocol, limited).
  std::string sqslite_endpoint() const { return endpoint(sqslite_port_); }
  /// The SigV4-verifying gate in front of all of them (+ STS, faults); credentials test/test
  /// unless GATE_CREDENTIALS was given.
  std::string gate_endpoint() const { return endpoint(gate_port_); }
  /// "127.0.0.1:<port>" for HttpRequest::host.
  static std::string host(unsigned short port) { return "127.0.0.1:" + std::to_string(port); }

  /// The private run directory (peers.env, peers.pids, <peer>.log, s3rver-data/).
  const std::filesystem::path& run_dir() const noexcept { return run_dir_; }
  /// The tail of one peer's log ("gate", "fauxqs", "s3rver", "sqslite"), for failure messages.
  std::string log_tail(const std::string& peer, std::size_t max_bytes = 4000) const;

  /// POST /__gate/faults: append fault rules, a JSON array as documented in
  /// tests/peers/bin/sigv4-gate.mjs, e.g.
  /// `[{"service":"sqs","action":"ReceiveMessage","status":503,"code":"ServiceUnavailable","times":2}]`.
  /// Throws when the gate does not answer 2xx.
  void gate_add_faults(const std::string& json_array) const;
  /// DELETE /__gate/faults: remove every fault rule.
  void gate_clear_faults() const;
  /// POST /__gate/reset: faults, stats, rejects and STS sessions.
  void gate_reset() const;
  /// GET /__gate/stats: JSON {requests, accepted, rejected, faultsInjected, forwarded, sts, byAction, byReject}.
  std::string gate_stats() const;
  /// GET /__gate/rejects: JSON array of the last 50 rejected requests with canonical requests.
  std::string gate_rejects() const;

  /// Runs `node tests/peers/seed.mjs --sqs-endpoint <fauxqs> --s3-endpoint <s3rver> <args...>`
  /// (direct endpoints; pass --sqs-endpoint/--s3-endpoint in `args` to go through the gate:
  /// later options win). Does not throw on a non-zero exit: check SeedResult::exit_code.
  SeedResult seed(const std::vector<std::string>& args = {}) const;

  /// The environment start-peers.sh ran with (ports, run dir, extra env) as NAME=VALUE.
  std::vector<std::string> environment() const;

 private:
  static std::string endpoint(unsigned short port) { return "http://" + host(port); }
  bool try_start(std::string& output);
  void stop() noexcept;

  PeersOptions options_;
  std::filesystem::path run_dir_;
  unsigned short fauxqs_port_ = 0, s3rver_port_ = 0, sqslite_port_ = 0, gate_port_ = 0, dynalite_port_ = 0;
  bool started_ = false;
  int watchdog_ = 0;  ///< pid of the detached process that stops the peers if this process dies
};

/// Runs a program (argv[0] looked up in PATH) with `env` added to this process's environment,
/// waits for it, and returns its exit code (128+signal when killed). stdout/stderr go to
/// `out_file`/`err_file` (empty: inherited). Throws std::runtime_error if it cannot be spawned.
int run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::filesystem::path& out_file, const std::filesystem::path& err_file);

/// Reads a whole file ("" when missing).
std::string read_file(const std::filesystem::path& p);

}  // namespace ctsqs::test
