// Sink: the one small interface every event destination implements (stdout, files, Devo).
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"

#include <string>

namespace ctsqs {

/// A destination for events.
///
/// Delivery contract (at-least-once): `write` queues an event; `flush` returns success only when
/// every event written before it is durably delivered (written and flushed to the file, socket or
/// stream). A failed flush means some events since the previous successful flush may be lost, so
/// the caller must not acknowledge their source (the SQS message comes back). After a failed
/// flush the sink stays usable: later writes and flushes may succeed again (e.g. after a
/// reconnect).
///
/// Errors (the library's one model): a failed `write` or `flush` returns the error code and fills
/// `diag.message` naming the file, descriptor or peer and what was wrong (e.g. "write to fd 1:
/// Broken pipe"); `diag` is left alone on success. `client_errc::sink_closed` means the sink
/// takes no more events (its reader is gone, the receiver refused for good); anything else is a
/// failure the sink may recover from.
///
/// Thread safety: a sink is used from one thread at a time; `write` may block when a bounded
/// internal buffer is full (backpressure).
///
/// Implement the two `Diagnostics&` forms. A sink written against the previous interface
/// (overriding `write(const Event&)`, `flush()` and maybe `last_error()`) still compiles and
/// works for one release: the default `write(event, diag)` / `flush(diag)` call those and copy
/// `last_error()` into `diag.message`. Callers of the old forms are served the other way round.
/// These old forms are deprecated and go in the next release.
class Sink {
 public:
  virtual ~Sink() = default;

  /// Queue one event for delivery. An error means the sink cannot take events now (the events
  /// since the last successful flush then count as lost); `diag.message` says why. `event` is
  /// valid only during the call: a sink that delivers later keeps a copy of what it needs.
  virtual result<void> write(const Event& event, Diagnostics& diag);

  /// Deliver everything written so far. Success is the delivery acknowledgement; on failure
  /// `diag.message` names the target and what was wrong.
  virtual result<void> flush(Diagnostics& diag);

  /// Deprecated: the previous interface, kept for one release. Overriding it still works (the
  /// default `write(event, diag)` calls it); calling it runs `write(event, diag)` and keeps the
  /// message for `last_error()`.
  [[deprecated("implement and call write(event, diag)")]] virtual result<void> write(const Event& event);

  /// Deprecated: see `write(const Event&)`.
  [[deprecated("implement and call flush(diag)")]] virtual result<void> flush();

  /// Deprecated: the message of the last failed deprecated `write(event)`/`flush()` call (empty
  /// if none). A sink of the old kind may override it: its text becomes `diag.message`.
  [[deprecated("read the Diagnostics& of write(event, diag)/flush(diag)")]] virtual std::string last_error() const;

 private:
  std::string legacy_error_;  // for the deprecated last_error()
  bool forwarding_ = false;   // a default form is calling the other one (catches a sink implementing neither)
};

}  // namespace ctsqs
