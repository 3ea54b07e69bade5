// RunLoop: the signal and progress loops shared by `run`, `drain` and `backfill`.
#include "run_loop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace ctsqs::cli {

namespace asio = boost::asio;

namespace {

struct Loops {
  RunLoop::Settings settings;
  asio::signal_set signals;
  asio::steady_timer progress;
  asio::steady_timer watchdog;
  bool* done;
  bool* stop_requested;
  Loops(asio::io_context& ioc, RunLoop::Settings s, bool* d, bool* sr)
      : settings(std::move(s)), signals(ioc, SIGINT, SIGTERM), progress(ioc), watchdog(ioc), done(d), stop_requested(sr) {}
};

asio::awaitable<void> signal_loop(Loops* l) {
  for (;;) {
    auto [ec, sig] = co_await l->signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || *l->done) co_return;
    if (*l->stop_requested) {
      std::cerr << "ctsqs: second signal: exiting now" << l->settings.second_signal_note << "\n" << std::flush;
      std::_Exit(130);
    }
    *l->stop_requested = true;
    std::cerr << "\nctsqs: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << " received" << l->settings.stop_note << "\n";
    if (l->settings.on_stop) l->settings.on_stop();
  }
}

asio::awaitable<void> progress_loop(Loops* l) {
  const bool tty = isatty(STDERR_FILENO) == 1;
  while (!*l->done) {
    l->progress.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(l->settings.progress_seconds)));
    co_await l->progress.async_wait(asio::as_tuple(asio::use_awaitable));
    if (*l->done) break;
    const auto line = l->settings.progress_line();
    if (tty)
      std::cerr << "\r\033[K" << line << std::flush;
    else
      std::cerr << line << "\n" << std::flush;
  }
  if (tty) std::cerr << "\r\033[K" << std::flush;
}

asio::awaitable<void> watchdog_loop(Loops* l) {
  while (!*l->done) {
    l->settings.watchdog_ping();
    l->watchdog.expires_after(l->settings.watchdog_interval / 2);
    co_await l->watchdog.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> main_loop(asio::io_context* ioc, Loops* l, std::function<asio::awaitable<bool>()> main) {
  const bool stop_now = co_await main();
  *l->done = true;
  l->signals.cancel();
  l->progress.cancel();
  l->watchdog.cancel();
  if (stop_now) ioc->stop();
}

}  // namespace

bool RunLoop::run(std::function<asio::awaitable<bool>()> main, Settings settings) {
  Loops loops(ioc, std::move(settings), &done_, &stop_requested_);
  asio::co_spawn(ioc, signal_loop(&loops), asio::detached);
  if (loops.settings.progress_seconds > 0 && loops.settings.progress_line)
    asio::co_spawn(ioc, progress_loop(&loops), asio::detached);
  if (loops.settings.watchdog_interval.count() > 0 && loops.settings.watchdog_ping)
    asio::co_spawn(ioc, watchdog_loop(&loops), asio::detached);
  if (loops.settings.on_started) asio::post(ioc, loops.settings.on_started);
  asio::co_spawn(ioc, main_loop(&ioc, &loops, std::move(main)), asio::detached);
  ioc.run();
  return done_;
}

}  // namespace ctsqs::cli
