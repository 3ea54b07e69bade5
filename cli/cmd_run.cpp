// `ctsqs run`: collect from the queue until SIGINT/SIGTERM, then finish or release what is in flight.
#include "collect.hpp"
#include "command.hpp"

namespace ctsqs::cli {
namespace {

CommandSetup setup_run = [](CLI::App& sub) -> std::function<int()> {
  auto args = std::make_shared<CollectArgs>();
  add_collect_options(sub, *args, false);
  sub.footer(
      "Runs until SIGINT or SIGTERM: then no more messages are received, messages in flight get "
      "run.shutdown_grace to finish and the rest are released (visibility 0) for another consumer. "
      "Exit 0 after a clean stop, 2 for usage or configuration errors. Several `ctsqs run` processes "
      "(on one or many machines) may share one queue: SQS hands each message to one of them at a time.");
  return [args] { return run_collect(*args, false); };
};

const bool registered = register_command(
    "run", "Collect CloudTrail events from the SQS queue of a collector file until stopped", setup_run);

}  // namespace
}  // namespace ctsqs::cli
