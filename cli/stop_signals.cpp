// SIGINT/SIGTERM ask a verify or audit run to stop; a second one exits at once.
#include "stop_signals.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace ctsqs::cli {

namespace asio = boost::asio;

void stop_on_signals(asio::signal_set& signals, bool& stop_requested, std::function<void()> on_stop) {
  asio::co_spawn(signals.get_executor(), [&signals, &stop_requested, on_stop = std::move(on_stop)]() -> asio::awaitable<void> {
    for (;;) {
      auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (stop_requested) std::_Exit(130);
      stop_requested = true;
      std::cerr << "\nctsqs: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << " received: finishing what is in flight\n";
      on_stop();
    }
  }, asio::detached);
}

}  // namespace ctsqs::cli
