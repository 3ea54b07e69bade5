// DevoSink: delivers events to Devo as syslog lines over TLS with a client certificate (or plain
// TCP to a relay), with bounded buffering, batching, reconnects and flush-as-acknowledgement.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"
#include "ctsqs/sink/sink.hpp"
#include "ctsqs/sink/devo_sink_options.hpp"

#include <cstdint>
#include <memory>

namespace ctsqs {

/// Sends each event as one line `<PRI>Mmm dd HH:MM:SS HOSTNAME TAG: RECORD-JSON\n`.
///
/// Delivery: TLS syslog has no application-level acknowledgement, so `flush` succeeds only when
/// every byte written since the previous flush was written to the socket without error and the
/// receiver's TCP stack acknowledged it (the kernel send queue drained), all on connections that
/// were not lost in between. A connection lost while any such byte was unconfirmed fails the
/// next flush (duplicates are possible, loss is not); the sink then reconnects (exponential
/// backoff with jitter) and stays usable. A failed flush also drops the events still queued.
///
/// I/O runs on the sink's own thread and io_context; `write` only formats and queues, and blocks
/// only while the bounded buffer (`buffer_bytes`) is full (at most `flush_timeout`).
///
/// Thread safety: one thread at a time calls write/flush/connect (the Sink contract);
/// `stats` may be called from any thread.
class DevoSink final : public Sink {
 public:
  /// Counters for monitoring and tests.
  struct Stats {
    std::uint64_t events = 0;          ///< events accepted by write
    std::uint64_t bytes_written = 0;   ///< bytes handed to the socket (TLS payload or TCP)
    std::uint64_t connections = 0;     ///< successful connects (handshakes) so far
    std::uint64_t failed_flushes = 0;  ///< flushes that returned an error
  };

  /// Validate `options` and load the certificate, key and chain (errors name the file: not
  /// readable, not PEM, expired, key not matching the certificate). Does not connect yet.
  static result<std::unique_ptr<DevoSink>> create(DevoSinkOptions options, Diagnostics& diag);

  /// Stops the I/O thread and closes the connection; events not flushed are not delivered.
  ~DevoSink() override;

  DevoSink(const DevoSink&) = delete;
  DevoSink& operator=(const DevoSink&) = delete;

  /// Format and queue one event. Blocks while the buffer is full; fails when it stays full
  /// for `flush_timeout` (the events since the last flush then count as lost), `diag.message`
  /// naming the receiver ("devo: buffer to HOST:PORT stayed full for N ms; last error: ...").
  result<void> write(const Event& event, Diagnostics& diag) override;

  /// Deliver everything written so far (see the class comment); waits at most `flush_timeout`.
  /// On failure `diag.message` names the receiver and says why (refused, certificate rejected,
  /// lost connection, not confirmed in time).
  result<void> flush(Diagnostics& diag) override;
  using Sink::flush;  // the deprecated forms, for one release
  using Sink::write;

  /// Connect now if not connected (one try, no backoff) and report why it failed: lets a
  /// program check its certificate and address at start-up.
  result<void> connect(Diagnostics& diag);

  /// Counters so far.
  Stats stats() const;

 private:
  struct Impl;
  explicit DevoSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctsqs
