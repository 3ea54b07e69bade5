// DevoHttpSink: delivers events to Devo's HTTP ingestion (stream mode): per-tag batches, gzip,
// POST through the HTTPS proxy, retries with backoff and Retry-After, flush-as-2xx-receipt.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"
#include "ctsqs/sink/sink.hpp"
#include "ctsqs/sink/devo_http_sink_options.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace ctsqs {

/// Sends each event's record (compact JSON) as one line of a gzipped POST to
/// `<endpoint>/stream/<domain>/token!<token>/<host>/<tag>`, one request per tag batch.
///
/// Delivery: `flush` succeeds only when Devo answered 2xx to every batch holding an event
/// written since the previous flush — an application-level receipt, which TLS syslog lacks.
/// 408, 429, 5xx, resets and timeouts are retried with exponential backoff (equal jitter; a
/// longer Retry-After is honoured) for at most `flush_timeout` per batch; a flush that outlives
/// `flush_timeout` fails and gives up its batches (an answer still on its way may make
/// duplicates, never a loss). Any other 4xx (bad token or domain, too large) is refused for
/// good: the flush and every later write fail with client_errc::sink_closed and a message
/// naming the status, so the collector stops instead of retrying what will not pass.
///
/// Gzip and I/O run on the sink's own thread; `write` only appends to its tag's batch and
/// blocks while `buffer_bytes` are queued (at most `flush_timeout`). The token is never
/// printed: not in errors, diagnostics or logs.
///
/// Thread safety: one thread at a time calls write/flush (the Sink contract); `stats` may be
/// called from any thread.
class DevoHttpSink final : public Sink {
 public:
  /// Counters for monitoring and tests.
  struct Stats {
    std::uint64_t events = 0;            ///< events accepted by write
    std::uint64_t batches = 0;           ///< batches Devo answered 2xx
    std::uint64_t requests = 0;          ///< POSTs tried (retries included)
    std::uint64_t retries = 0;           ///< POSTs repeated after a 5xx, 429, reset or timeout
    std::uint64_t bytes_in = 0;          ///< line bytes of the delivered batches (before gzip)
    std::uint64_t bytes_sent = 0;        ///< gzipped body bytes of the delivered batches
    std::uint64_t failed_flushes = 0;    ///< flushes that returned an error
  };

  /// Validate `options`, read the proxy settings and start the I/O thread (no connection yet).
  static result<std::unique_ptr<DevoHttpSink>> create(DevoHttpSinkOptions options, Diagnostics& diag);

  /// Stops the I/O thread (an exchange in flight is cancelled); unflushed events are not sent.
  ~DevoHttpSink() override;

  DevoHttpSink(const DevoHttpSink&) = delete;
  DevoHttpSink& operator=(const DevoHttpSink&) = delete;

  /// Append the event to its tag's batch; hands the batch on when it reaches `batch_bytes`.
  /// Fails when the buffer stays full for `flush_timeout` or after Devo refused for good;
  /// `diag.message` says which (no token).
  result<void> write(const Event& event, Diagnostics& diag) override;

  /// Send every batch and wait until each one written since the last flush was answered 2xx.
  /// On failure `diag.message` names the tag's batch and the status or the transport step, and
  /// `diag.http_status` is Devo's status when its answer was the failure; never the token.
  result<void> flush(Diagnostics& diag) override;
  using Sink::flush;  // the deprecated forms, for one release
  using Sink::write;

  /// Counters so far.
  Stats stats() const;

 private:
  struct Impl;
  explicit DevoHttpSink(std::unique_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace ctsqs
