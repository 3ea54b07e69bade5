// The CLI's event loop for a long run (run, drain, backfill): SIGINT/SIGTERM (the first asks
// the run to stop, the second exits at once), a progress line on stderr, and an end as soon as
// the run says so (workers abandoned after the grace period do not keep the loop alive).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace ctsqs::cli {

/// One io_context and its signal and progress loops.
class RunLoop {
 public:
  struct Settings {
    /// Called on the first SIGINT/SIGTERM (on the loop's thread).
    std::function<void()> on_stop;
    /// Printed after "ctsqs: SIGINT received" (e.g. ": finishing what is in flight").
    std::string stop_note;
    /// Printed on a second signal, before exiting with 130.
    std::string second_signal_note;
    /// Seconds between progress lines; 0 = none.
    double progress_seconds = 0;
    /// The progress line (called every `progress_seconds`).
    std::function<std::string()> progress_line;
    /// Called once the loop turns (e.g. systemd readiness).
    std::function<void()> on_started;
    /// A liveness ping (systemd's watchdog) every half of this interval while the run lasts; 0 = none.
    std::chrono::microseconds watchdog_interval{0};
    std::function<void()> watchdog_ping;
  };

  boost::asio::io_context ioc{1};

  /// Runs `main` to its end on `ioc` with the signal and progress loops. `main` returns true
  /// when the loop must stop at once (work abandoned after the grace period: its handlers never
  /// complete); otherwise the loop runs until nothing is left. Returns true when `main` ended.
  bool run(std::function<boost::asio::awaitable<bool>()> main, Settings settings);

 private:
  bool done_ = false;
  bool stop_requested_ = false;
};

}  // namespace ctsqs::cli
