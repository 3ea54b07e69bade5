// The outside world as the library reads it: the process environment or a fixed map, real
// files, the system clock (see ctsqs/environment.hpp).
#include "ctsqs/environment.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ctsqs {

EnvLookup environment_from(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::optional<std::string> env_value(const EnvLookup& env, std::string_view name) {
  if (!env) return std::nullopt;
  auto v = env(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

FileReader real_file_reader() {
  return [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return ss.str();
  };
}

WallClock system_wall_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

}  // namespace ctsqs
