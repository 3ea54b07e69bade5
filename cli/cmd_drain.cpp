// `ctsqs drain`: collect until the queue stays empty, then print a summary.
#include "collect.hpp"
#include "command.hpp"

namespace ctsqs::cli {
namespace {

CommandSetup setup_drain = [](CLI::App& sub) -> std::function<int()> {
  auto args = std::make_shared<CollectArgs>();
  add_collect_options(sub, *args, true);
  sub.footer(
      "Ends when drain.empty_polls consecutive long polls found the queue empty with nothing in "
      "flight, then prints a summary on stderr. Exit 0 when every message was delivered and "
      "deleted, 1 when some message failed permanently or was left for a retry, 2 for usage or "
      "configuration errors. SIGINT/SIGTERM stop it like `ctsqs run`.");
  return [args] { return run_collect(*args, true); };
};

const bool registered = register_command(
    "drain", "Collect CloudTrail events from the SQS queue until it is empty, then exit", setup_drain);

}  // namespace
}  // namespace ctsqs::cli
