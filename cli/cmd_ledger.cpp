// `ctsqs ledger init`: make the delivery ledger ready (a SQLite file, or a DynamoDB table with
// on-demand billing and TTL) and say which permissions are missing.
#include "collect.hpp"
#include "command.hpp"

#include "ctsqs/aws/client.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/ledger/open_ledger.hpp"

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <memory>
#include <optional>

namespace ctsqs::cli {
namespace {

struct LedgerArgs {
  std::string ledger;
  std::string config_file;
  std::string region;
  int retention_days = 0;  ///< 0 = the config's (default 35)
};

int run_ledger_init(const LedgerArgs& a) {
  const char* cmd = "ctsqs ledger init";
  CollectorConfig cfg;
  if (!a.config_file.empty()) {
    auto loaded = load_config_unvalidated(cmd, a.config_file);
    if (!loaded) return exit_usage;
    cfg = std::move(*loaded);
  }
  if (!a.ledger.empty()) cfg.ledger = a.ledger;
  if (!cfg.ledger) {
    std::cerr << cmd << ": no ledger: give --ledger PATH|dynamodb://TABLE or a --config with ctsqs.ledger\n";
    return exit_usage;
  }
  if (!a.region.empty()) cfg.aws.region = a.region;
  if (a.retention_days > 0) cfg.ledger_retention = std::chrono::hours(24 * a.retention_days);

  boost::asio::io_context io;
  Diagnostics diag;
  auto made = make_aws_client(cfg, io.get_executor(), [](std::string_view line) { std::cerr << line << '\n'; }, diag);
  if (!made) {
    std::cerr << cmd << ": " << diag.message << "\n";
    return exit_usage;
  }
  std::unique_ptr<AwsClient> client = std::move(*made);
  std::optional<result<LedgerInitReport>> out;
  async_init_ledger(io.get_executor(), *cfg.ledger, cfg.ledger_retention, client.get(), diag,
                    [&](error_code ec, LedgerInitReport r) {
                      if (ec)
                        out.emplace(ec);
                      else
                        out.emplace(std::move(r));
                    });
  io.run();
  if (!out || !*out) {
    std::cerr << cmd << ": " << *cfg.ledger << ": " << (diag.empty() ? out->error().message() : to_string(diag)) << "\n";
    return out && (*out).error() == client_errc::invalid_argument ? exit_usage : exit_bad_input;
  }
  const auto& report = **out;
  for (const auto& s : report.steps) std::cout << "  " << s << "\n";
  if (!report.missing_permissions.empty()) {
    std::cout << cmd << ": " << *cfg.ledger << " is NOT ready: missing permission(s):";
    for (const auto& p : report.missing_permissions) std::cout << ' ' << p;
    std::cout << " (AccessDenied answers); grant them to the identity `ctsqs whoami` names\n";
    return exit_bad_input;
  }
  std::cout << cmd << ": " << *cfg.ledger << " is ready"
            << (report.billing_mode.empty() ? "" : " (" + report.billing_mode + ")") << "\n";
  return exit_ok;
}

CommandSetup setup_ledger = [](CLI::App& sub) -> std::function<int()> {
  auto args = std::make_shared<LedgerArgs>();
  sub.require_subcommand(1);
  auto* init = sub.add_subcommand("init", "Create the ledger (SQLite file, or DynamoDB table with on-demand billing and TTL)");
  init->add_option("--ledger", args->ledger, "A SQLite file path or dynamodb://TABLE (default: the config's ctsqs.ledger)");
  init->add_option("--config", args->config_file, "Collector file: its credentials, region, endpoints and ctsqs.ledger");
  init->add_option("--region", args->region, "AWS region of the DynamoDB table (default: the config's or AWS_REGION)");
  init->add_option("--retention-days", args->retention_days, "Days records are kept (TTL; default 35)")
      ->check(CLI::Range(1, 3650));
  init->footer(
      "Exit 0 when the ledger is ready, 1 when a permission is missing (each AccessDenied is named "
      "as its IAM action, e.g. dynamodb:CreateTable) or a call failed, 2 for usage errors.");
  return [args] { return run_ledger_init(*args); };
};

const bool registered =
    register_command("ledger", "Manage the delivery ledger (objects delivered once, per object)", setup_ledger);

}  // namespace
}  // namespace ctsqs::cli
