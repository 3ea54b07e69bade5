// systemd integration of `ctsqs run`/`drain`: readiness, status, stopping and watchdog pings
// through sd_notify (libsystemd, optional at build time: without it these do nothing).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace ctsqs::cli {

/// True when built with libsystemd (CTSQS_HAVE_SYSTEMD).
bool systemd_support() noexcept;

/// Tell the service manager the collector is running (READY=1) with a status line. No-op when
/// not started by systemd (no NOTIFY_SOCKET) or built without libsystemd.
void notify_ready(const std::string& status);

/// Tell the service manager the collector is stopping (STOPPING=1) and why.
void notify_stopping(const std::string& status);

/// The watchdog interval systemd expects pings within (WatchdogSec=), when enabled for this
/// process; ping at half of it.
std::optional<std::chrono::microseconds> watchdog_interval();

/// One watchdog ping (WATCHDOG=1).
void notify_watchdog();

}  // namespace ctsqs::cli
