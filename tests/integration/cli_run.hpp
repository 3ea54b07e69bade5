// Runs the built `ctsqs` binary as a user would and captures its exit code, stdout and stderr,
// for the CLI tests. Each test process gets its own work directory (ctest runs every test case
// as its own process, in parallel), removed at exit.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace ctsqs::test::cli {

namespace fs = std::filesystem;

inline const fs::path bin = fs::path(CTSQS_BINARY_DIR) / "cli" / "ctsqs";
inline const fs::path src = fs::path(CTSQS_SOURCE_DIR);

/// This process's work directory, named after `test` and the pid.
class WorkDir {
 public:
  explicit WorkDir(const std::string& test)
      : path_(fs::path(CTSQS_BINARY_DIR) / "test-tmp" / (test + "-" + std::to_string(::getpid()))) {}
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A path quoted for the shell command line.
inline std::string q(const fs::path& p) {
  std::string s(1, '\'');
  s += p.string();
  s += '\'';
  return s;
}

struct Run {
  int rc;
  std::string out, err;
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
};

/// `ctsqs ARGS <stdin_file` with stdout and stderr captured in `work`.
inline Run run_ctsqs(const fs::path& work, const std::string& args, const std::string& stdin_file = "/dev/null") {
  fs::create_directories(work);
  const auto out = work / "stdout", err = work / "stderr";
  std::string cmd = q(bin);
  for (const std::string& part : {" " + args, " <" + q(stdin_file), " >" + q(out), " 2>" + q(err)}) cmd += part;
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

}  // namespace ctsqs::test::cli
