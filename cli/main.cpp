// ctsqs command-line entry point: dispatches to the registered subcommands.
#include "command.hpp"

#include <algorithm>
#include <csignal>
#include <iostream>
#include <vector>

namespace ctsqs::cli {
namespace {

struct Registered {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<Registered>& registry() {
  static std::vector<Registered> r;
  return r;
}

}  // namespace

bool register_command(std::string name, std::string description, CommandSetup setup) {
  registry().push_back({std::move(name), std::move(description), std::move(setup)});
  return true;
}

}  // namespace ctsqs::cli

int main(int argc, char** argv) {
  using namespace ctsqs::cli;
  // A closed pipe downstream (`ctsqs run --output - | head`) and a file-size limit are output
  // errors every command reports (EPIPE, EFBIG), not a silent kill.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"ctsqs: collect AWS CloudTrail logs from an SQS queue, or decode CloudTrail files"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ctsqs ") + CTSQS_VERSION);

  auto& cmds = registry();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    runners.emplace_back(sub, c.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : exit_usage;
  }
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) {
      try {
        return run();
      } catch (const std::exception& e) {
        std::cerr << "ctsqs " << sub->get_name() << ": " << e.what() << "\n";
        return exit_usage;
      }
    }
  }
  return exit_usage;
}
