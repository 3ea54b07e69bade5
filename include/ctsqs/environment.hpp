// What the library reads from the outside world, injectable: environment variables, files and
// the wall clock. The one place EnvLookup, FileReader and WallClock are declared.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs {

/// Reads one environment variable; unset → nullopt. Library code never reads the process
/// environment itself: callers pass `process_environment()` or, in tests, `environment_from()`.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// An EnvLookup over a fixed map (tests, embedding applications).
EnvLookup environment_from(std::map<std::string, std::string, std::less<>> vars);

/// An EnvLookup over the real process environment (getenv), for the CLI edge.
EnvLookup process_environment();

/// One variable through `env`, treating unset and empty alike (the AWS SDKs ignore empty values).
std::optional<std::string> env_value(const EnvLookup& env, std::string_view name);

/// Reads a whole file; nullopt when it does not exist or cannot be read.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

/// Reads real files.
FileReader real_file_reader();

/// The wall clock, injectable (tests pass a fake).
using WallClock = std::function<std::chrono::system_clock::time_point()>;

/// The real system clock.
WallClock system_wall_clock();

}  // namespace ctsqs
