// Integration: `ctsqs run` as systemd's Type=notify service sees it, without systemd: a datagram
// socket stands in for NOTIFY_SOCKET and receives READY=1, the watchdog pings (WATCHDOG_USEC)
// and STOPPING=1 on SIGTERM. Skipped when the binary was built without libsystemd.
#include "collector_helpers.hpp"

#include "catch.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

using namespace ctsqs::test;
using namespace std::chrono_literals;

namespace {

bool built_with_libsystemd() {
  return std::system(("ldd '" + ctsqs_exe().string() + "' | grep -q libsystemd").c_str()) == 0;
}

// A bound AF_UNIX datagram socket at `path`; each datagram received is one notification.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("cannot bind " + path.string());
  }
  ~NotifySocket() { ::close(fd_); }
  /// Datagrams received within `wait` (stops early once `until` is in one).
  std::vector<std::string> receive(std::chrono::milliseconds wait, const std::string& until = "") {
    std::vector<std::string> out;
    const auto end = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      out.emplace_back(buf, static_cast<std::size_t>(n));
      if (!until.empty() && out.back().find(until) != std::string::npos) break;
    }
    return out;
  }

 private:
  int fd_;
};

std::size_t count_with(const std::vector<std::string>& v, const std::string& s) {
  return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [&](auto& x) { return x.find(s) != std::string::npos; }));
}

}  // namespace

TEST_CASE("cli: ctsqs run tells systemd it is ready, pings the watchdog and says when it stops",
          "[integration][systemd]") {
  if (!built_with_libsystemd()) {
    WARN("SKIPPED: ctsqs was built without libsystemd (libsystemd-dev; CTSQS_SYSTEMD)");
    return;
  }
  const std::string external_id = "ext-systemd-5";
  Peers peers({.peers = "fauxqs s3rver gate", .env = {{"GATE_EXTERNAL_ID", external_id}}});
  TempDir tmp;
  const auto cfg = tmp.path / "collector.json";
  write_text(cfg, collector_config(peers, "ct-s3-events", external_id));
  NotifySocket sock(tmp.path / "notify.sock");
  ::setenv("NOTIFY_SOCKET", (tmp.path / "notify.sock").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);
  Child c({ctsqs_exe().string(), "run", "--config", cfg.string(), "--output", (tmp.path / "out").string(),
           "--progress", "0"},
          tmp.path / "run.out", tmp.path / "run.err");
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  auto got = sock.receive(10s, "READY=1");
  INFO(read_file(tmp.path / "run.err"));
  REQUIRE(count_with(got, "READY=1") == 1);
  CHECK(count_with(got, "STATUS=collecting from ") == 1);
  // Pings every 200 ms (half of WATCHDOG_USEC) from the event loop.
  got = sock.receive(1500ms);
  CHECK(count_with(got, "WATCHDOG=1") >= 4);
  c.signal(SIGTERM);
  got = sock.receive(10s, "STOPPING=1");
  CHECK(count_with(got, "STOPPING=1") == 1);
  CHECK(c.wait(60s) == 0);
}
