// DevoSink implementation: Asio (TLS or TCP) on a private I/O thread, batching, reconnects with
// backoff, and flush confirmed by the receiver's TCP acknowledgement of every byte.
#include "ctsqs/sink/devo_sink.hpp"

#include "ctsqs/sink/format.hpp"
#include "devo_tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <unistd.h>
#include <sys/ioctl.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <deque>
#include <future>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

namespace ctsqs {


namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct DevoSink::Impl {
  // One TCP or TLS connection; shared by the coroutines using it so it outlives their handlers.
  struct Connection {
    Connection(asio::io_context& io, ssl::context& ctx) : stream(io, ctx) {}
    ssl::stream<tcp::socket> stream;
    bool tls = true;
    std::uint64_t id = 0;
    Clock::time_point since{};
    bool dead = false;
    bool accepted = false;  // TLS 1.3: the server sent a session ticket after our Finished
    Diagnostics why;        // why it was lost
    tcp::socket& socket() { return stream.next_layer(); }
  };

  DevoSinkOptions opts;
  std::string host;          // where we connect
  std::string verify_name;   // name checked in the server certificate and sent as SNI
  std::string endpoint;      // "host:port" for messages
  std::string hostname;      // syslog HOSTNAME
  ssl::context ctx{ssl::context::tls_client};
  asio::io_context io;
  asio::steady_timer wake{io};
  asio::steady_timer backoff{io};
  asio::steady_timer stop_timer{io};
  std::thread thread;

  // Caller-side batch being filled (only the calling thread touches it).
  std::string pending;

  // Shared state between the caller and the I/O thread.
  mutable std::mutex m;
  std::condition_variable cv;
  std::deque<std::pair<std::uint64_t, std::string>> queue;  // (batch sequence, bytes)
  std::size_t queued_bytes = 0;    // queued + in flight
  std::uint64_t submitted = 0;     // last batch sequence handed to the I/O thread
  std::uint64_t written = 0;       // last batch sequence fully written (or given up by a flush)
  std::uint64_t confirmed = 0;     // last sequence the receiver's TCP acknowledged
  std::uint64_t confirm_target = 0;  // a flush waits for `confirmed >= confirm_target`
  bool inflight = false;           // a batch is being written
  std::uint64_t inflight_seq = 0;  // its sequence
  bool lost = false;               // bytes since the last flush may be lost
  Diagnostics lost_diag;           // why
  Diagnostics last_connect_diag;   // last failed connect (for timeouts)
  bool connect_failed_hard = false;  // certificate-level failure: fail a waiting flush now
  bool reset_requested = false;    // drop the connection (flush timed out)
  bool stopping = false;
  bool connected = false;
  Stats stats;

  // I/O-thread-only state.
  std::shared_ptr<Connection> conn;
  std::uint64_t next_conn_id = 0;
  unsigned attempt = 0;
  bool connecting = false;
  bool run_done = false;
  std::mt19937_64 rng{std::random_device{}()};

  explicit Impl(DevoSinkOptions o) : opts(std::move(o)) {}

  // ---- setup -------------------------------------------------------------------------------

  // ---- caller side -------------------------------------------------------------------------

  void wake_io() {
    asio::post(io, [this] { wake.cancel(); });
  }

  // Hand `pending` to the I/O thread, waiting for buffer space until `deadline` (lock held by
  // `lk`); `diag` says why it could not.
  result<void> submit_pending(std::unique_lock<std::mutex>& lk, Clock::time_point deadline, Diagnostics& diag) {
    if (pending.empty()) return {};
    const bool ok = cv.wait_until(lk, deadline, [&] {
      return stopping || queued_bytes == 0 || queued_bytes + pending.size() <= opts.buffer_bytes;
    });
    if (!ok || stopping) {
      pending.clear();
      lost = true;
      lost_diag.clear();
      lost_diag.message = "devo: buffer to " + endpoint + " stayed full for " +
                          std::to_string(opts.flush_timeout.count()) + " ms" +
                          (last_connect_diag.message.empty()
                               ? std::string{}
                               : "; last error: " + last_connect_diag.message);
      diag = lost_diag;
      return client_errc::sink_failed;
    }
    queued_bytes += pending.size();
    queue.emplace_back(++submitted, std::move(pending));
    pending.clear();
    pending.reserve(opts.batch_bytes + 1024);
    lk.unlock();
    wake_io();
    lk.lock();
    return {};
  }

  // After a failed flush: forget the events of that flush still queued (their source will be
  // redelivered) and start the next flush clean.
  void discard_after_failure() {
    pending.clear();
    for (auto& b : queue) queued_bytes -= b.second.size();
    queue.clear();
    // The failed flush gave these batches up: nothing more to confirm for them.
    written = std::max(written, submitted);
    confirmed = std::max(confirmed, written);
    lost = false;
    lost_diag.clear();
    connect_failed_hard = false;
    ++stats.failed_flushes;
  }

  result<void> flush(Diagnostics& diag) {
    // One deadline for the whole flush: waiting for buffer space and for the acknowledgement.
    const auto deadline = Clock::now() + opts.flush_timeout;
    std::unique_lock lk(m);
    if (auto r = submit_pending(lk, deadline, diag); !r) {
      discard_after_failure();
      return r;
    }
    const std::uint64_t target = submitted;
    confirm_target = std::max(confirm_target, target);
    lk.unlock();
    wake_io();
    lk.lock();
    const bool done = cv.wait_until(lk, deadline, [&] {
      return stopping || lost || connect_failed_hard || confirmed >= target;
    });
    if (done && !stopping && !lost && !connect_failed_hard) return {};
    Diagnostics d;
    if (lost) {
      d = lost_diag;
    } else if (connect_failed_hard) {
      d = last_connect_diag;
    } else {
      d.message = "devo: delivery to " + endpoint + " not confirmed within " +
                  std::to_string(opts.flush_timeout.count()) + " ms" +
                  (last_connect_diag.message.empty() ? std::string{}
                                                     : "; last error: " + last_connect_diag.message);
      reset_requested = true;  // a stuck connection is replaced
    }
    if (stopping) d.message = "devo: sink is shutting down";
    diag = std::move(d);
    discard_after_failure();
    lk.unlock();
    wake_io();
    return client_errc::sink_failed;
  }

  // ---- I/O thread --------------------------------------------------------------------------

  // Mark `c` dead, close its socket and stop using it (I/O thread).
  void close_connection(const std::shared_ptr<Connection>& c) {
    c->dead = true;
    boost::system::error_code ignored;
    c->socket().shutdown(tcp::socket::shutdown_both, ignored);
    c->socket().close(ignored);
    if (conn == c) conn.reset();
  }

  // Record that the connection is gone; bytes written on it and not yet confirmed are lost.
  void connection_lost(const std::shared_ptr<Connection>& c, Diagnostics why) {
    if (c->dead) return;
    c->why = why;
    close_connection(c);
    std::lock_guard lk(m);
    connected = false;
    // A batch given up by a failed flush (seq <= confirmed) does not fail the next one.
    if (written > confirmed || (inflight && inflight_seq > confirmed)) {
      lost = true;
      lost_diag = std::move(why);
    }
    cv.notify_all();
  }

  Diagnostics describe_session_error(const error_code& ec, const char* what) {
    Diagnostics d;
    if (const std::string alert = devo_tls::alert_reason(ec); !alert.empty()) {
      d.message = "devo: " + endpoint + " rejected the client certificate " + opts.cert_file +
                  ": " + alert;
    } else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
               ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
      d.message = std::string("devo: connection to ") + endpoint + " lost while " + what + ": " +
                  ec.message();
    } else {
      d.message = std::string("devo: ") + what + " " + endpoint + " failed: " + ec.message();
    }
    return d;
  }

  awaitable<void> read_loop(std::shared_ptr<Connection> c) {
    char buf[512];
    for (;;) {
      error_code ec;
      if (c->tls) {
        auto [e, n] = co_await c->stream.async_read_some(asio::buffer(buf), use_tuple);
        ec = e;
      } else {
        auto [e, n] = co_await c->socket().async_read_some(asio::buffer(buf), use_tuple);
        ec = e;
      }
      if (c->dead) co_return;
      if (ec) {
        Diagnostics d = ec == asio::error::eof
                            ? Diagnostics{"devo: " + endpoint + " closed the connection", {}, {}, 0}
                            : describe_session_error(ec, "reading from");
        connection_lost(c, std::move(d));
        wake.cancel();
        co_return;
      }
      // A syslog receiver sends nothing; ignore what it might.
    }
  }

  // One connect + handshake try. Returns the error detail, empty on success.
  awaitable<Diagnostics> connect_once() {
    struct Busy {
      bool& flag;
      explicit Busy(bool& f) : flag(f) { flag = true; }
      ~Busy() { flag = false; }
    } busy(connecting);
    Diagnostics d;
    tcp::resolver resolver(io);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(host, std::to_string(opts.port), use_tuple);
    if (rec) {
      d.message = "devo: cannot resolve " + host + ": " + rec.message();
      co_return d;
    }
    auto c = std::make_shared<Connection>(io, ctx);
    c->tls = opts.tls;
    c->id = ++next_conn_id;
    // One timer bounds connect + handshake: it closes the socket, failing the pending step.
    asio::steady_timer deadline(io);
    auto timed_out_flag = std::make_shared<bool>(false);
    const bool& timed_out = *timed_out_flag;
    deadline.expires_after(opts.connect_timeout);
    deadline.async_wait([c, timed_out_flag](boost::system::error_code e) {
      if (e) return;
      *timed_out_flag = true;
      boost::system::error_code ignored;
      c->socket().close(ignored);
    });
    auto [cec, ep] = co_await asio::async_connect(c->socket(), endpoints, use_tuple);
    if (cec) {
      deadline.cancel();
      if (timed_out)
        d.message = "devo: connecting to " + endpoint + " timed out after " +
                    std::to_string(opts.connect_timeout.count()) + " ms";
      else if (cec == asio::error::connection_refused)
        d.message = "devo: connection to " + endpoint + " refused";
      else
        d.message = "devo: cannot connect to " + endpoint + ": " + cec.message();
      co_return d;
    }
    boost::system::error_code ignored;
    c->socket().set_option(tcp::no_delay(true), ignored);
    if (c->tls) {
      SSL* s = c->stream.native_handle();
      devo_tls::track_acceptance(s, &c->accepted);
      if (!verify_name.empty() && !devo_tls::is_ip_literal(verify_name))
        SSL_set_tlsext_host_name(s, verify_name.c_str());
      if (opts.verify_server) c->stream.set_verify_callback(ssl::host_name_verification(verify_name));
      auto [hec] = co_await c->stream.async_handshake(ssl::stream_base::client, use_tuple);
      if (hec) {
        deadline.cancel();
        const long vr = SSL_get_verify_result(s);
        if (timed_out) {
          d.message = "devo: TLS handshake with " + endpoint + " timed out after " +
                      std::to_string(opts.connect_timeout.count()) + " ms";
        } else if (vr != X509_V_OK && opts.verify_server) {
          d.message = "devo: server certificate of " + endpoint + " is not trusted (" +
                      (opts.chain_file.empty() ? std::string("system store")
                                               : "chain " + opts.chain_file) +
                      ", name " + verify_name + "): " + X509_verify_cert_error_string(vr);
        } else {
          d = describe_session_error(hec, "TLS handshake with");
        }
        ERR_clear_error();
        co_return d;
      }
      deadline.cancel();
      conn = c;
      c->since = Clock::now();
      asio::co_spawn(io, read_loop(c), asio::detached);
      if (SSL_version(s) == TLS1_3_VERSION && opts.accept_wait.count() > 0) {
        // TLS 1.3: the server verifies our certificate after our Finished; wait for its verdict
        // (a session ticket = accepted, an alert = rejected) before trusting the connection.
        const auto until = Clock::now() + opts.accept_wait;
        asio::steady_timer t(io);
        while (!c->accepted && !c->dead && Clock::now() < until) {
          t.expires_after(std::chrono::milliseconds(2));
          co_await t.async_wait(use_tuple);
        }
        if (c->dead) {
          // An alert names the reason; a bare close right after the handshake is how receivers
          // that check the certificate themselves (rsyslog) refuse it.
          if (c->why.message.find("rejected the client certificate") != std::string::npos)
            d = c->why;
          else
            d.message = "devo: " + endpoint + " rejected the client certificate " +
                        opts.cert_file +
                        ": it closed the connection right after the TLS handshake (is the "
                        "certificate issued by a CA the receiver trusts?)";
          co_return d;
        }
      }
    } else {
      deadline.cancel();
      conn = c;
      c->since = Clock::now();
      asio::co_spawn(io, read_loop(c), asio::detached);
    }
    co_return d;
  }

  // Whether a connect failure is about certificates (retrying will not help a waiting flush).
  static bool is_hard(const Diagnostics& d) {
    return d.message.find("certificate") != std::string::npos;
  }

  awaitable<bool> connect_with_backoff() {
    Diagnostics d = co_await connect_once();
    if (d.message.empty()) {
      attempt = 0;
      std::lock_guard lk(m);
      connected = true;
      ++stats.connections;
      last_connect_diag.clear();
      connect_failed_hard = false;
      co_return true;
    }
    {
      std::lock_guard lk(m);
      last_connect_diag = d;
      if (is_hard(d)) connect_failed_hard = true;
      cv.notify_all();
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto delay = devo_backoff_delay(attempt, opts.backoff_initial, opts.backoff_max, unit(rng));
    if (attempt < 64) ++attempt;
    backoff.expires_after(delay);
    co_await backoff.async_wait(use_tuple);
    co_return false;
  }

  // Wait until the kernel send queue of `c` is empty: the receiver's TCP acknowledged every byte.
  awaitable<bool> drain_send_queue(std::shared_ptr<Connection> c) {
#ifdef __linux__
    asio::steady_timer t(io);
    auto pause = std::chrono::microseconds(200);
    for (;;) {
      if (c->dead) co_return false;
      int outq = 0;
      if (::ioctl(c->socket().native_handle(), SIOCOUTQ, &outq) != 0) co_return false;
      if (outq == 0) co_return true;
      {
        std::lock_guard lk(m);
        if (reset_requested || stopping) co_return false;
      }
      t.expires_after(pause);
      co_await t.async_wait(use_tuple);
      pause = std::min(pause * 2, std::chrono::microseconds(20000));
    }
#else
    co_return !c->dead;
#endif
  }

  awaitable<void> graceful_close(std::shared_ptr<Connection> c) {
    if (c->dead) co_return;
    if (c->tls) {
      asio::steady_timer t(io);
      t.expires_after(std::chrono::milliseconds(500));
      t.async_wait([c](boost::system::error_code e) {
        if (e) return;
        boost::system::error_code ignored;
        c->socket().close(ignored);
      });
      // Sends close_notify; the receiver's reply (or the timer) ends it.
      co_await c->stream.async_shutdown(use_tuple);
      t.cancel();
    }
    close_connection(c);
    std::lock_guard lk(m);
    connected = false;
  }

  awaitable<void> run() {
    for (;;) {
      bool have_batch = false, need_confirm = false, reset = false;
      {
        std::lock_guard lk(m);
        if (stopping) break;
        have_batch = !queue.empty();
        need_confirm = confirm_target > confirmed;
        reset = reset_requested;
        reset_requested = false;
      }
      if (reset && conn) {
        connection_lost(conn, Diagnostics{"devo: connection to " + endpoint +
                                              " reset after a flush timed out",
                                          {}, {}, 0});
        continue;
      }
      if (!have_batch && !need_confirm) {
        wake.expires_at(Clock::time_point::max());
        co_await wake.async_wait(use_tuple);
        continue;
      }
      if (!conn) {
        if (connecting) {  // connect() from the caller is at it
          backoff.expires_after(std::chrono::milliseconds(5));
          co_await backoff.async_wait(use_tuple);
        } else {
          co_await connect_with_backoff();
        }
        continue;
      }
      auto c = conn;
      if (opts.reconnect_every.count() > 0 && Clock::now() - c->since >= opts.reconnect_every) {
        // Recycle: make sure what was written arrived, then close and reconnect.
        const bool ok = co_await drain_send_queue(c);
        if (ok) {
          std::lock_guard lk(m);
          confirmed = std::max(confirmed, written);
          cv.notify_all();
        }
        if (!ok) {
          connection_lost(c, Diagnostics{"devo: connection to " + endpoint +
                                             " lost before a periodic reconnect",
                                         {}, {}, 0});
          continue;
        }
        co_await graceful_close(c);
        continue;
      }
      if (have_batch) {
        std::uint64_t seq = 0;
        std::string bytes;
        {
          std::lock_guard lk(m);
          if (queue.empty()) continue;  // discarded by a failed flush meanwhile
          seq = queue.front().first;
          bytes = std::move(queue.front().second);
          queue.pop_front();
          inflight = true;
          inflight_seq = seq;
        }
        error_code ec;
        std::size_t n = 0;
        if (c->tls) {
          auto [e, k] = co_await asio::async_write(c->stream, asio::buffer(bytes), use_tuple);
          ec = e;
          n = k;
        } else {
          auto [e, k] = co_await asio::async_write(c->socket(), asio::buffer(bytes), use_tuple);
          ec = e;
          n = k;
        }
        if (ec) {
          connection_lost(c, describe_session_error(ec, "writing to"));
          std::lock_guard lk(m);
          inflight = false;
          queued_bytes -= bytes.size();
          cv.notify_all();
          continue;
        }
        std::lock_guard lk(m);
        inflight = false;
        queued_bytes -= bytes.size();
        written = std::max(written, seq);
        stats.bytes_written += n;
        cv.notify_all();
        continue;
      }
      // need_confirm and nothing left to write.
      std::uint64_t upto = 0;
      {
        std::lock_guard lk(m);
        upto = written;
      }
      if (co_await drain_send_queue(c)) {
        std::lock_guard lk(m);
        confirmed = std::max(confirmed, upto);
        cv.notify_all();
      } else if (!c->dead) {
        // Reset or shutdown requested while draining: loop handles it.
        continue;
      }
    }
    if (conn) co_await graceful_close(conn);
    run_done = true;
    stop_timer.cancel();
  }

  // Called on the I/O thread when the sink is destroyed: end waits now, and if a write is stuck
  // (receiver not reading) close the socket after a grace period so the thread can end.
  void begin_stop() {
    wake.cancel();
    backoff.cancel();
    if (run_done) return;
    stop_timer.expires_after(std::chrono::seconds(2));
    stop_timer.async_wait([this](boost::system::error_code e) {
      if (e) return;
      if (conn) {
        boost::system::error_code ignored;
        conn->socket().close(ignored);
      }
      io.stop();
    });
  }

  awaitable<void> connect_now(Diagnostics* out, std::promise<void>* done) {
    asio::steady_timer t(io);
    while (connecting) {  // the run loop is connecting: report its outcome
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(use_tuple);
    }
    if (conn) {
      *out = Diagnostics{};
    } else if (!conn) {
      Diagnostics d = co_await connect_once();
      std::lock_guard lk(m);
      if (d.message.empty()) {
        connected = true;
        ++stats.connections;
        last_connect_diag.clear();
        connect_failed_hard = false;
      } else {
        last_connect_diag = d;
      }
      *out = std::move(d);
    }
    done->set_value();
  }
};

DevoSink::DevoSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

result<std::unique_ptr<DevoSink>> DevoSink::create(DevoSinkOptions options, Diagnostics& diag) {
  if (auto v = validate(options, diag); !v) return v.error();
  auto host = devo_endpoint_host(options, diag);
  if (!host) return host.error();
  auto impl = std::make_unique<Impl>(std::move(options));
  impl->host = *host;
  impl->verify_name = impl->opts.server_name.empty() ? impl->host : impl->opts.server_name;
  impl->endpoint = (impl->host.find(':') != std::string::npos ? "[" + impl->host + "]" : impl->host) +
                   ":" + std::to_string(impl->opts.port);
  impl->hostname = impl->opts.hostname.empty() ? local_host_name() : impl->opts.hostname;
  if (impl->opts.tls) {
    if (auto r = devo_tls::load_client_context(impl->ctx.native_handle(), impl->opts, diag); !r) return r.error();
    if (!impl->opts.verify_server) {
      const std::string warning = "ctsqs: warning: Devo server certificate verification is OFF for " +
                                  impl->endpoint +
                                  " (outputs.devo.verify_server: false): whoever is on the path can read "
                                  "and alter the events; only for a test receiver";
      if (impl->opts.log)
        impl->opts.log(warning);
      else
        std::cerr << warning << '\n';
    }
  }
  // Two batches fit in the buffer, so one can be written while the next fills.
  impl->opts.batch_bytes = std::min(impl->opts.batch_bytes, impl->opts.buffer_bytes / 2);
  impl->pending.reserve(impl->opts.batch_bytes + 1024);
  Impl* p = impl.get();
  asio::co_spawn(p->io, p->run(), asio::detached);
  p->thread = std::thread([p] { p->io.run(); });
  return std::unique_ptr<DevoSink>(new DevoSink(std::move(impl)));
}

DevoSink::~DevoSink() {
  {
    std::lock_guard lk(impl_->m);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  // The run loop closes the connection (close_notify) and returns; begin_stop bounds the wait.
  asio::post(impl_->io, [p = impl_.get()] { p->begin_stop(); });
  if (impl_->thread.joinable()) impl_->thread.join();
}

result<void> DevoSink::write(const Event& event, Diagnostics& diag) {
  Impl& s = *impl_;
  LineOptions lo;
  lo.hostname = s.hostname;
  lo.priority = s.opts.priority;
  lo.time = std::chrono::system_clock::now();
  append_line(s.pending, event, OutputFormat::devo, lo);
  std::unique_lock lk(s.m);
  ++s.stats.events;
  if (s.pending.size() >= s.opts.batch_bytes)
    return s.submit_pending(lk, Clock::now() + s.opts.flush_timeout, diag);
  return {};
}

result<void> DevoSink::flush(Diagnostics& diag) { return impl_->flush(diag); }

result<void> DevoSink::connect(Diagnostics& diag) {
  Impl& s = *impl_;
  std::promise<void> done;
  Diagnostics out;
  asio::co_spawn(s.io, s.connect_now(&out, &done), asio::detached);
  done.get_future().wait();
  diag = out;
  if (out.message.empty()) return {};
  return client_errc::sink_failed;
}

DevoSink::Stats DevoSink::stats() const {
  std::lock_guard lk(impl_->m);
  return impl_->stats;
}

}  // namespace ctsqs
