// sd_notify calls of the CLI (libsystemd when CTSQS_HAVE_SYSTEMD, else no-ops).
#include "systemd_notify.hpp"

#ifdef CTSQS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace ctsqs::cli {

#ifdef CTSQS_HAVE_SYSTEMD
bool systemd_support() noexcept { return true; }
void notify_ready(const std::string& status) { sd_notify(0, ("READY=1\nSTATUS=" + status).c_str()); }
void notify_stopping(const std::string& status) { sd_notify(0, ("STOPPING=1\nSTATUS=" + status).c_str()); }
std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return std::chrono::microseconds(usec);
  return std::nullopt;
}
void notify_watchdog() { sd_notify(0, "WATCHDOG=1"); }
#else
bool systemd_support() noexcept { return false; }
void notify_ready(const std::string&) {}
void notify_stopping(const std::string&) {}
std::optional<std::chrono::microseconds> watchdog_interval() { return std::nullopt; }
void notify_watchdog() {}
#endif

}  // namespace ctsqs::cli
