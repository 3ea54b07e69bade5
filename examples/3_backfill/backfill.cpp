// Example (tier 3: Backfill): read what a CloudTrail bucket already holds for a time range, from
// an application, with the collector file's credentials, role, services and outputs, through the
// same pipeline as a drain; resumable through a state file (a second run reads nothing twice).
// SIGINT/SIGTERM stop it: what is in flight is finished or released, the state is saved.
//
//   example_backfill COLLECTOR_FILE BUCKET SINCE [UNTIL] [STATE_FILE]     (file format: examples/collector.json)
//   e.g. example_backfill collector.json my-trail-bucket 2026-09-01 2026-09-02 backfill.state
#include "ctsqs/backfill/backfill.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: example_backfill COLLECTOR_FILE BUCKET SINCE [UNTIL] [STATE_FILE]\n";
    return 2;
  }
  ctsqs::Diagnostics diag;
  ctsqs::ConfigParseOptions po;
  po.validate = false;  // Backfill validates (the file's queue is not needed)
  auto config = ctsqs::load_collector_config(argv[1], diag, po);
  if (!config) {
    std::cerr << diag.message << "\n";
    return 2;
  }
  ctsqs::BackfillOptions options;
  options.range.bucket = argv[2];
  auto since = ctsqs::parse_backfill_time(argv[3], "SINCE", diag);
  auto until = ctsqs::parse_backfill_time(argc > 4 ? argv[4] : "2100-01-01", "UNTIL", diag);
  if (!since || !until) {
    std::cerr << diag.message << "\n";
    return 2;
  }
  options.range.since = *since;
  options.range.until = *until;
  if (argc > 5) options.state_file = argv[5];

  boost::asio::io_context ioc{1};
  auto backfill = ctsqs::Backfill::create(std::move(*config), ioc.get_executor(), options, diag);
  if (!backfill) {
    std::cerr << diag.message << "\n";
    return 2;
  }
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](auto ec, int) {
    if (!ec) (*backfill)->request_stop();
  });
  ctsqs::BackfillResult result;
  boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<void> {
        result = co_await (*backfill)->async_run();
        signals.cancel();
      },
      boost::asio::detached);
  ioc.run();  // returns once everything the run started has ended

  std::cerr << result.objects_done << " of " << result.scan.objects << " objects delivered ("
            << result.scan.already_done << " done by an earlier run)\n";
  for (const auto& f : result.failed) std::cerr << "failed: " << f << "\n";
  if (result.scan_failed) std::cerr << "listing failed: " << result.scan_error << "\n";
  return result.clean() ? 0 : 1;
}
