// Helpers for integration tests that run their own small servers: a background process killed
// by its pid, free loopback ports, waiting for a port, and a private temporary directory.
#pragma once

#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ctsqs::test {

/// A process this test started (argv[0] looked up in PATH), stdout/stderr appended to `log`;
/// SIGTERM'd by its pid and reaped on destruction. Throws std::runtime_error if it cannot start.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::filesystem::path& log);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

 private:
  pid_t pid_ = -1;
};

/// A loopback TCP port that was free a moment ago.
unsigned short free_port();

/// Waits (up to ~5 s) until something accepts connections on 127.0.0.1:`port`; throws otherwise.
void wait_for_port(unsigned short port);

/// A fresh directory under the temp dir, removed on destruction (kept when
/// CTSQS_KEEP_PEERS_RUN_DIR is set).
struct TempDir {
  std::filesystem::path path;
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace ctsqs::test
