// `ctsqs check-config FILE`: validates a collector file without touching AWS and prints its
// warnings and the effective settings (secrets redacted).
#include "command.hpp"

#include "ctsqs/collector/config.hpp"

#include <iostream>
#include <memory>
#include <string>

namespace ctsqs::cli {
namespace {

struct CheckConfigOptions {
  std::string file;
  bool quiet = false;
};

int run_check_config(const CheckConfigOptions& o) {
  Diagnostics diag;
  auto cfg = load_collector_config(o.file, diag);
  if (!cfg) {
    std::cerr << diag.message << "\n";
    return exit_usage;
  }
  for (const auto& w : cfg->warnings)
    std::cerr << cfg->source_name << ": warning: " << w.path << ": " << w.message << "\n";
  if (!o.quiet) std::cout << describe(*cfg);
  return exit_ok;
}

CommandSetup setup_check_config = [](CLI::App& sub) -> std::function<int()> {
  auto o = std::make_shared<CheckConfigOptions>();
  sub.add_option("FILE", o->file, "The collector file (Devo's SQS collector template + ctsqs section)")
      ->required();
  sub.add_flag("--quiet,-q", o->quiet, "Print nothing when the file is valid (warnings still go to stderr)");
  sub.footer(
      "Parses and validates FILE as `ctsqs run`/`drain` would, without contacting AWS. Errors and "
      "warnings name the JSON path; the effective settings go to stdout with secrets redacted. "
      "Exit 0 when the file is valid (warnings allowed), 2 when it is not.");
  return [o] { return run_check_config(*o); };
};

const bool registered = register_command(
    "check-config", "Validate a collector file and print its effective settings (no AWS calls)",
    setup_check_config);

}  // namespace
}  // namespace ctsqs::cli
