// Shared by `ctsqs verify` and `ctsqs audit`: SIGINT/SIGTERM ask the run to stop, a second one
// exits at once.
#pragma once

#include <boost/asio/signal_set.hpp>

#include <functional>

namespace ctsqs::cli {

/// Waits on `signals` (on its executor): the first signal sets `stop_requested`, says
/// "ctsqs: SIGINT|SIGTERM received: finishing what is in flight" on stderr and calls `on_stop`;
/// a second one exits 130 at once. Ends when `signals` is cancelled. `stop_requested` must
/// outlive the wait.
void stop_on_signals(boost::asio::signal_set& signals, bool& stop_requested, std::function<void()> on_stop);

}  // namespace ctsqs::cli
