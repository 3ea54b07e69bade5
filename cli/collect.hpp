// Shared by `ctsqs run` and `ctsqs drain`: options, wiring the collector from the config file,
// progress, signals, summary.
#pragma once

#include <CLI/CLI.hpp>

#include "ctsqs/collector/config.hpp"

#include <optional>
#include <string>

namespace ctsqs::cli {

/// Command-line settings of run/drain (overrides on top of the config file).
struct CollectArgs {
  std::string config_file;
  std::string output;             ///< "-" (stdout), a directory, or empty = the config's outputs
  std::string format;             ///< flat|raw|devo, empty = the config's
  double progress_seconds = 10;   ///< progress line period on stderr; 0 = none
  int wait_time = -1;             ///< override sqs.wait_time (s), -1 = config
  int empty_polls = -1;           ///< drain: override drain.empty_polls, -1 = config
  int retry_backoff = -1;         ///< override the minimum retry backoff (s), -1 = default 5
  int shutdown_grace = -1;        ///< override run.shutdown_grace (s), -1 = config
  std::string objects_in_flight;  ///< override concurrency.objects_in_flight: "auto" or N; empty = config
  int max_objects_in_flight = -1; ///< override concurrency.max_objects_in_flight
  int messages_in_flight = -1;    ///< override concurrency.messages_in_flight
  int threads = -1;               ///< override concurrency.decode_threads (0: every core)
  int max_messages = -1;          ///< override sqs.max_messages
  std::string metrics_listen;     ///< override metrics.listen
  std::string ledger;             ///< override ctsqs.ledger: a file path or dynamodb://TABLE
  int heal_grace = -1;            ///< override ctsqs.integrity.heal_grace (s), -1 = config
  bool quiet = false;             ///< no progress and no summary
};

/// The collector file, parsed but not validated (flags override it first); on error prints
/// "<cmd>: <what>" on stderr and returns nothing.
std::optional<CollectorConfig> load_config_unvalidated(const char* cmd, const std::string& path);

/// --objects-in-flight: "auto" (adaptive) or a fixed number; empty = the file's.
void apply_objects_in_flight_flag(CollectorConfig& cfg, const std::string& value);

/// --output ('-' or a directory) and --format over the file's outputs (none set: build_collector()
/// writes to stdout).
/// Throws CLI::ValidationError for an unknown format.
void apply_output_flags(CollectorConfig& cfg, const std::string& output, const std::string& format);

/// Adds the shared options to `sub`.
void add_collect_options(CLI::App& sub, CollectArgs& args, bool drain);

/// Runs the collector; returns the exit code (0 ok, 1 some bad input or unfinished work, 2 config).
int run_collect(const CollectArgs& args, bool drain);

}  // namespace ctsqs::cli
