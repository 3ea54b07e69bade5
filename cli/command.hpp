// Subcommand registry: each cli/cmd_*.cpp registers itself, main wires them into CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace ctsqs::cli {

/// Exit codes shared by every command.
inline constexpr int exit_ok = 0;        ///< every input was processed
inline constexpr int exit_bad_input = 1; ///< some input was bad (good inputs were still processed)
inline constexpr int exit_usage = 2;     ///< usage or configuration error

/// Adds a subcommand's options to `sub` and returns what to run when it was chosen.
using CommandSetup = std::function<std::function<int()>(CLI::App& sub)>;

/// Register a subcommand. Call from a namespace-scope initializer in the command's file:
/// `static const bool registered = register_command("decode", "Decode ...", &setup_decode);`
bool register_command(std::string name, std::string description, CommandSetup setup);

}  // namespace ctsqs::cli
