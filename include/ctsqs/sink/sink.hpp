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
/// Thread safety: a sink is used from one thread at a time; `write` may block when a bounded
/// internal buffer is full (backpressure).
class Sink {
 public:
  virtual ~Sink() = default;

  /// Queue one event for delivery. An error means the sink cannot take events now.
  virtual result<void> write(const Event& event) = 0;

  /// Deliver everything written so far. Success is the delivery acknowledgement.
  virtual result<void> flush() = 0;

  /// What the last failed write or flush reported, naming the file, descriptor or peer (e.g.
  /// "write to fd 1: Broken pipe"); empty when the sink keeps no detail. Read from the thread
  /// that uses the sink.
  virtual std::string last_error() const { return {}; }
};

}  // namespace ctsqs
