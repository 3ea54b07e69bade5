// RsyslogReceiver: a private rsyslogd (imtcp, TLS via the ossl driver or plain TCP) on a free
// loopback port writing every raw message to a file; TestPki: certificates made with `openssl`.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "detached.hpp"

namespace ctsqs::test {

/// A fresh private directory under the system temp dir, removed by the destructor (unless the
/// environment variable CTSQS_KEEP_TEST_DIRS is set).
class NamedTempDir {
 public:
  explicit NamedTempDir(const std::string& prefix) {
    std::random_device rd;
    for (int i = 0; i < 100; ++i) {
      path_ = std::filesystem::temp_directory_path() /
              (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
      if (std::filesystem::create_directory(path_)) return;
    }
    throw std::runtime_error("cannot create a temporary directory");
  }
  ~NamedTempDir() {
    if (std::getenv("CTSQS_KEEP_TEST_DIRS") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  NamedTempDir(const NamedTempDir&) = delete;
  NamedTempDir& operator=(const NamedTempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Run a shell command; throw with its output when it fails.
inline void run_or_throw(const std::string& command) {
  const std::string full = command + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = ::pclose(p);
  if (status != 0) throw std::runtime_error("command failed: " + command + "\n" + out);
}

/// Test certificates made with the `openssl` command in `dir`:
/// ca.pem/ca.key (the receiver's CA), server.pem/server.key (localhost + 127.0.0.1),
/// client.pem/client.key (signed by the CA), other-client.pem/.key (signed by another CA),
/// other-ca.pem, expired-client.pem/.key (signed by the CA, valid only in January 2020).
struct TestPki {
  std::filesystem::path dir;

  explicit TestPki(std::filesystem::path d) : dir(std::move(d)) {
    const std::string q = "cd '" + dir.string() + "' && ";
    run_or_throw(q + "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
                     "-days 2 -subj '/CN=ctsqs test CA'");
    run_or_throw(q + "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key "
                     "-out other-ca.pem -days 2 -subj '/CN=ctsqs other CA'");
    run_or_throw(q + "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext");
    make_leaf(q, "server", "localhost", "ca", "-extfile san.ext");
    make_leaf(q, "client", "ctsqs-client", "ca", "");
    make_leaf(q, "other-client", "ctsqs-other-client", "other-ca", "");
    // `openssl x509` cannot back-date; `openssl ca` can.
    run_or_throw(q + "mkdir -p expca && : > expca/index.txt && echo 1000 > expca/serial && "
                     "printf '[ca]\\ndefault_ca=e\\n[e]\\ndir=.\\ndatabase=expca/index.txt\\n"
                     "new_certs_dir=expca\\nserial=expca/serial\\ndefault_md=sha256\\n"
                     "policy=p\\nunique_subject=no\\n[p]\\ncommonName=supplied\\n' > expca.cnf");
    run_or_throw(q + "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout expired-client.key "
                     "-out expired-client.csr -subj '/CN=ctsqs-expired-client'");
    run_or_throw(q + "openssl ca -batch -config expca.cnf -cert ca.pem -keyfile ca.key "
                     "-in expired-client.csr -out expired-client.pem "
                     "-startdate 20200101000000Z -enddate 20200201000000Z");
  }

  std::string file(const std::string& name) const { return (dir / name).string(); }

 private:
  static void make_leaf(const std::string& q, const std::string& name, const std::string& cn,
                        const std::string& ca, const std::string& extra) {
    run_or_throw(q + "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name + ".key -out " + name +
                 ".csr -subj '/CN=" + cn + "'");
    run_or_throw(q + "openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
                 ".key -CAcreateserial -out " + name + ".pem -days 2 " + extra);
  }
};

/// A free TCP port on 127.0.0.1 (bound then released; the caller binds it next).
inline std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

/// True when something accepts TCP connections on 127.0.0.1:port.
inline bool port_accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

/// A standalone rsyslogd: own work directory, no system sockets, imtcp on a free loopback port
/// (TLS with the ossl driver requiring a client certificate signed by `ca_file`, or plain
/// TCP), every message written raw (`%rawmsg%`) as one line to `output()`. The main queue is
/// Direct and the file is flushed at the end of each batch, so what rsyslog read is on disk.
/// The destructor stops it (SIGKILL if SIGTERM does not end it); a detached watchdog kills it
/// when the test process ends without that (crash, ctest timeout, SIGKILL).
class RsyslogReceiver {
 public:
  struct Options {
    bool tls = true;
    std::string ca_file, cert_file, key_file;  ///< with tls
    bool tls12_only = false;  ///< offer only TLS 1.2 (client certificate checked in the handshake)
  };

  RsyslogReceiver(const std::filesystem::path& dir, Options o) : dir_(dir), opts_(std::move(o)) {
    std::filesystem::create_directories(dir_ / "work");
    // A free port may be taken by someone else before rsyslogd binds it: try a few.
    for (int attempt = 0;; ++attempt) {
      port_ = free_loopback_port();
      write_conf();
      try {
        start(std::chrono::seconds(attempt < 2 ? 5 : 15));
        return;
      } catch (const std::runtime_error&) {
        if (attempt >= 2) throw;
      }
    }
  }
  ~RsyslogReceiver() { stop(SIGTERM); }
  RsyslogReceiver(const RsyslogReceiver&) = delete;
  RsyslogReceiver& operator=(const RsyslogReceiver&) = delete;

  std::uint16_t port() const { return port_; }
  std::filesystem::path output() const { return dir_ / "out.log"; }
  std::filesystem::path log() const { return dir_ / "rsyslogd.log"; }
  bool running() const { return pid_ > 0; }

  /// Start rsyslogd and wait until it accepts connections (throws with its log if it does not).
  void start(std::chrono::seconds timeout = std::chrono::seconds(15)) {
    if (pid_ > 0) return;
    const std::string conf = (dir_ / "rsyslog.conf").string();
    const std::string pidfile = (dir_ / "rsyslogd.pid").string();
    std::filesystem::remove(pidfile);
    const std::string logfile = log().string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int fd = ::open(logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execlp("rsyslogd", "rsyslogd", "-n", "-f", conf.c_str(), "-i", pidfile.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    spawn_watchdog();
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        stop_watchdog();
        throw std::runtime_error("rsyslogd exited at start:\n" + read_file(log()));
      }
      if (port_accepts(port_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop(SIGKILL);
    throw std::runtime_error("rsyslogd did not listen on port " + std::to_string(port_) + ":\n" +
                             read_file(log()));
  }

  /// Stop with `sig` (SIGTERM: orderly; SIGKILL: crash) and reap it.
  void stop(int sig) {
    stop_watchdog();
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);  // a paused process would not act on SIGTERM
    ::kill(pid_, sig);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

  /// Freeze (SIGSTOP) or thaw (SIGCONT) the receiver: a stalled peer that stops reading.
  void pause() { if (pid_ > 0) ::kill(pid_, SIGSTOP); }
  void resume() { if (pid_ > 0) ::kill(pid_, SIGCONT); }

  /// The lines rsyslog wrote so far.
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::ifstream in(output());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  /// Wait until at least `n` lines were written (or the timeout passed); returns the lines.
  std::vector<std::string> wait_for_lines(std::size_t n,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    const auto until = std::chrono::steady_clock::now() + timeout;
    auto l = lines();
    while (l.size() < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      l = lines();
    }
    return l;
  }

  static std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  // A shell in its own session (a kill of the test's process group spares it) that waits for
  // this test process to end and then kills rsyslogd, so no receiver outlives a dead test.
  // (Not PR_SET_PDEATHSIG: that follows the forking thread, and tests restart the receiver
  // from short-lived threads.)
  void spawn_watchdog() {
    const pid_t pid = spawn_detached({"sh", "-c",
                                      "while kill -0 \"$1\" 2>/dev/null; do sleep 0.2; done; "
                                      "kill -9 \"$2\" 2>/dev/null",
                                      "ctsqs-rsyslog-watchdog", std::to_string(::getpid()),
                                      std::to_string(pid_)});
    if (pid > 0) watchdog_ = pid;
  }

  void stop_watchdog() {
    if (watchdog_ <= 0) return;
    ::kill(watchdog_, SIGKILL);
    int status = 0;
    while (::waitpid(watchdog_, &status, 0) < 0 && errno == EINTR) {
    }
    watchdog_ = -1;
  }

  void write_conf() {
    std::ofstream c(dir_ / "rsyslog.conf");
    c << "global(workDirectory=\"" << (dir_ / "work").string() << "\" maxMessageSize=\"1m\"";
    if (opts_.tls) {
      c << "\n  defaultNetstreamDriver=\"ossl\""
        << "\n  defaultNetstreamDriverCAFile=\"" << opts_.ca_file << "\""
        << "\n  defaultNetstreamDriverCertFile=\"" << opts_.cert_file << "\""
        << "\n  defaultNetstreamDriverKeyFile=\"" << opts_.key_file << "\"";
    }
    c << ")\n";
    c << "main_queue(queue.type=\"Direct\")\n";
    if (opts_.tls)
      c << "module(load=\"imtcp\" streamDriver.name=\"ossl\" streamDriver.mode=\"1\" "
           "streamDriver.authMode=\"x509/certvalid\" maxSessions=\"200\""
        << (opts_.tls12_only ? " gnutlsPriorityString=\"Protocol=-ALL,TLSv1.2\"" : "") << ")\n";
    else
      c << "module(load=\"imtcp\" maxSessions=\"200\")\n";
    c << "template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n"
      << "ruleset(name=\"in\") {\n"
      << "  action(type=\"omfile\" file=\"" << output().string()
      << "\" template=\"raw\" flushOnTXEnd=\"on\" asyncWriting=\"off\")\n"
      << "}\n"
      << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port_ << "\" ruleset=\"in\")\n";
  }

  std::filesystem::path dir_;
  Options opts_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  pid_t watchdog_ = -1;
};

}  // namespace ctsqs::test
