// DevoHttpSink implementation: per-tag batches handed to a private I/O thread that gzips them
// (libdeflate) and POSTs them one at a time with HttpsClient, retrying with backoff; flush waits
// for Devo's 2xx to every batch of its window.
#include "ctsqs/sink/devo_http_sink.hpp"
#include "ctsqs/sink/format.hpp"

#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/sink/devo_sink_options.hpp"
#include "ctsqs/transport/https_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <libdeflate.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

namespace ctsqs {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + with.size()))
    s.replace(p, what.size(), with);
}

std::string seconds_text(milliseconds d) {
  const auto tenths = d.count() / 100;
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") + " s";
}

}  // namespace

struct DevoHttpSink::Impl {
  struct Batch {
    std::uint64_t seq = 0;
    std::string tag;
    std::string lines;
    std::uint64_t events = 0;
  };
  enum class Outcome { delivered, failed, refused, abandoned };

  DevoHttpSinkOptions opts;
  DevoHttpTarget target;
  std::string hostname;
  std::string token_encoded;  // the token as it appears in the path (for redaction)

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<transport::HttpsClient> client;
  asio::steady_timer wake{io};
  asio::steady_timer backoff{io};
  asio::cancellation_signal cancel;  // I/O thread only: cuts the exchange or wait in progress
  std::thread thread;
  libdeflate_compressor* compressor = nullptr;  // I/O thread only
  std::mt19937_64 rng{std::random_device{}()};

  // Caller side (only the thread calling write/flush touches these).
  std::map<std::string, Batch, std::less<>> pending;
  std::uint64_t flushed_upto = 0;  // target of the previous flush

  // Shared with the I/O thread.
  mutable std::mutex m;
  std::condition_variable cv;
  std::deque<Batch> queue;
  std::size_t queued_bytes = 0;     // queued + in flight
  std::uint64_t submitted = 0;      // last batch sequence handed on
  std::uint64_t completed = 0;      // last batch sequence done (any outcome); in order
  std::uint64_t abandon_upto = 0;   // batches up to this were given up by a failed flush
  std::uint64_t last_failed = 0;    // last sequence that failed (not abandoned)
  Diagnostics failed_diag;          // why
  bool dropped = false;             // a batch was dropped (buffer full) since the last flush
  bool refused = false;             // Devo refused for good: the sink is closed
  Diagnostics refused_diag;
  Diagnostics dropped_diag;
  bool stopping = false;
  bool loop_done = false;
  Stats stats;

  explicit Impl(DevoHttpSinkOptions o) : opts(std::move(o)) {}
  ~Impl() {
    if (compressor != nullptr) libdeflate_free_compressor(compressor);
  }

  std::string redact(std::string s) const {
    replace_all(s, token_encoded, "***");
    replace_all(s, opts.token, "***");
    return s;
  }

  std::string where(const Batch& b) const {
    return "devo_http: tag " + b.tag + " (" + std::to_string(b.events) + " events, " +
           std::to_string(b.lines.size()) + " bytes)";
  }

  void poke() {
    asio::post(io, [this] { wake.cancel(); });
  }

  // ---- caller side ---------------------------------------------------------------------------

  // `lk` is held: `d` may be shared state.
  static result<void> fail(std::unique_lock<std::mutex>& lk, Diagnostics& diag, error_code ec, const Diagnostics& d) {
    (void)lk;
    diag = d;
    return ec;
  }

  result<void> hand_on(Batch&& b, std::unique_lock<std::mutex>& lk, Clock::time_point deadline, Diagnostics& diag) {
    const std::size_t n = b.lines.size();
    while (!refused && queued_bytes > 0 && queued_bytes + n > opts.buffer_bytes) {
      if (cv.wait_until(lk, deadline) == std::cv_status::timeout && queued_bytes + n > opts.buffer_bytes) {
        Diagnostics d;
        d.message = "devo_http: the buffer (" + std::to_string(opts.buffer_bytes) +
                    " bytes) stayed full for " + seconds_text(opts.flush_timeout) +
                    ": Devo does not take batches fast enough" +
                    (failed_diag.message.empty() ? "" : " (last: " + failed_diag.message + ")");
        dropped = true;  // its events are gone: the next flush must fail too
        dropped_diag = d;
        return fail(lk, diag, make_error_code(client_errc::sink_failed), d);
      }
    }
    if (refused) return fail(lk, diag, make_error_code(client_errc::sink_closed), refused_diag);
    b.seq = ++submitted;
    queued_bytes += n;
    queue.push_back(std::move(b));
    poke();
    return {};
  }

  result<void> write(const Event& e, Diagnostics& diag) {
    {
      std::unique_lock lk(m);
      if (refused) return fail(lk, diag, make_error_code(client_errc::sink_closed), refused_diag);
    }
    auto it = pending.find(e.tag);
    if (it == pending.end()) it = pending.emplace(e.tag, Batch{0, e.tag, {}, 0}).first;
    Batch& b = it->second;
    if (!b.lines.empty() && b.lines.size() + e.record.size() + 1 > opts.batch_bytes) {
      // Keep each request under batch_bytes (and so under Devo's 32 MB) where the lines allow.
      Batch full = std::move(b);
      b = Batch{0, e.tag, {}, 0};
      std::unique_lock lk(m);
      if (auto r = hand_on(std::move(full), lk, Clock::now() + opts.flush_timeout, diag); !r) return r;
    }
    const std::size_t start = b.lines.size();
    b.lines += e.record;
    // One event per line: a raw line break (only whitespace between JSON tokens) becomes a space.
    for (std::size_t i = start; i < b.lines.size(); ++i)
      if (b.lines[i] == '\n' || b.lines[i] == '\r') b.lines[i] = ' ';
    b.lines += '\n';
    ++b.events;
    std::unique_lock lk(m);
    ++stats.events;
    if (b.lines.size() >= opts.batch_bytes) {
      Batch full = std::move(b);
      pending.erase(it);
      return hand_on(std::move(full), lk, Clock::now() + opts.flush_timeout, diag);
    }
    return {};
  }

  result<void> flush(Diagnostics& diag) {
    const auto deadline = Clock::now() + opts.flush_timeout;
    std::unique_lock lk(m);
    for (auto& [tag, b] : pending) {
      if (b.lines.empty()) continue;
      if (auto r = hand_on(std::move(b), lk, deadline, diag); !r) {
        pending.clear();
        ++stats.failed_flushes;
        dropped = false;  // this flush fails for it
        flushed_upto = submitted;
        abandon_upto = std::max(abandon_upto, submitted);
        return r;
      }
    }
    pending.clear();
    const std::uint64_t upto = submitted;
    cv.wait_until(lk, deadline, [&] { return completed >= upto || refused; });
    const std::uint64_t since = flushed_upto;
    flushed_upto = upto;
    const bool was_dropped = std::exchange(dropped, false);
    if (refused) {
      ++stats.failed_flushes;
      abandon_upto = std::max(abandon_upto, upto);
      poke_cancel();
      return fail(lk, diag, make_error_code(client_errc::sink_closed), refused_diag);
    }
    if (completed < upto) {
      ++stats.failed_flushes;
      abandon_upto = std::max(abandon_upto, upto);
      poke_cancel();
      Diagnostics d;
      d.message = "devo_http: flush timed out after " + seconds_text(opts.flush_timeout) + ": " +
                  std::to_string(upto - completed) + " batch(es) not answered 2xx" +
                  (failed_diag.message.empty() ? "" : " (last: " + failed_diag.message + ")");
      return fail(lk, diag, make_error_code(client_errc::sink_failed), d);
    }
    if (last_failed > since) {
      ++stats.failed_flushes;
      return fail(lk, diag, make_error_code(client_errc::sink_failed), failed_diag);
    }
    if (was_dropped) {
      ++stats.failed_flushes;
      return fail(lk, diag, make_error_code(client_errc::sink_failed), dropped_diag);
    }
    return {};
  }

  // Abandon the batch in flight (the flush gave up on it): cancel its exchange or wait.
  void poke_cancel() {
    asio::post(io, [this] {
      cancel.emit(asio::cancellation_type::terminal);
      backoff.cancel();
      wake.cancel();
    });
  }

  // ---- I/O thread ----------------------------------------------------------------------------

  bool abandoned(std::uint64_t seq) {
    std::lock_guard lk(m);
    return stopping || seq <= abandon_upto;
  }

  std::string gzip(const std::string& in) {
    std::string out(libdeflate_gzip_compress_bound(compressor, in.size()), '\0');
    const std::size_t n = libdeflate_gzip_compress(compressor, in.data(), in.size(), out.data(), out.size());
    out.resize(n);
    return out;
  }

  // Send one batch until it is delivered, refused, out of time or abandoned.
  asio::awaitable<Outcome> send(const Batch& b, Diagnostics& why) {
    HttpRequest req;
    req.method = "POST";
    req.scheme = target.scheme;
    req.host = target.host;
    req.path = devo_http_stream_path(target.base_path, opts.domain, opts.token, hostname, b.tag);
    req.headers.push_back({"Content-Type", "text/plain"});
    req.headers.push_back({"Content-Encoding", "gzip"});
    req.body = gzip(b.lines);
    if (req.body.size() > devo_http_max_request_bytes) {
      why.message = where(b) + ": the gzipped batch is " + std::to_string(req.body.size()) +
                    " bytes, over Devo's 32 MB request limit (one event that large cannot be sent)";
      co_return Outcome::refused;
    }
    transport::ExchangeOptions xo;
    xo.connect_timeout = opts.connect_timeout;
    xo.read_timeout = opts.request_timeout;
    xo.max_body_bytes = 1u << 20;
    const auto give_up_at = Clock::now() + opts.flush_timeout;
    for (unsigned attempt = 0;; ++attempt) {
      if (abandoned(b.seq)) co_return Outcome::abandoned;
      {
        std::lock_guard lk(m);
        ++stats.requests;
        if (attempt > 0) ++stats.retries;
      }
      Diagnostics d;
      std::optional<milliseconds> asked;
      bool ok = false;
      try {
        auto r = co_await client->async_exchange(req, xo, d);
        if (r) {
          why.http_status = r->status;
          switch (classify_devo_http_status(r->status)) {
            case DevoHttpAnswer::delivered:
              ok = true;
              {
                std::lock_guard lk(m);
                ++stats.batches;
                stats.bytes_in += b.lines.size();
                stats.bytes_sent += req.body.size();
              }
              break;
            case DevoHttpAnswer::refused:
              why.message = where(b) + ": Devo refused the request: " + describe_devo_http_status(r->status);
              if (!r->body.empty()) why.message += " (" + redact(r->body.substr(0, 200)) + ")";
              co_return Outcome::refused;
            case DevoHttpAnswer::retry:
              why.message = where(b) + ": " + describe_devo_http_status(r->status);
              if (auto ra = r->header("Retry-After"); !ra.empty()) {
                asked = parse_retry_after(ra, std::chrono::system_clock::now());
                if (asked) why.message += " (Retry-After " + seconds_text(*asked) + ")";
              }
              break;
          }
        } else {
          why.http_status = 0;
          why.message = where(b) + ": " + redact(d.message);
        }
      } catch (const boost::system::system_error& e) {
        why.message = where(b) + ": " + redact(e.what());
      }
      if (ok) co_return Outcome::delivered;
      if (abandoned(b.seq)) co_return Outcome::abandoned;
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      milliseconds delay = devo_backoff_delay(attempt, opts.backoff_initial, opts.backoff_max, unit(rng));
      if (asked) delay = std::max(delay, std::min(*asked, opts.retry_after_max));
      if (Clock::now() + delay > give_up_at) {
        why.message += "; gave up after " + std::to_string(attempt + 1) + " tries";
        co_return Outcome::failed;
      }
      backoff.expires_after(delay);
      co_await backoff.async_wait(use_tuple);
    }
  }

  asio::awaitable<void> run_loop() {
    for (;;) {
      co_await asio::this_coro::reset_cancellation_state();
      Batch b;
      {
        std::unique_lock lk(m);
        if (stopping) break;
        if (queue.empty()) {
          lk.unlock();
          wake.expires_at(Clock::time_point::max());
          co_await wake.async_wait(use_tuple);
          continue;
        }
        b = std::move(queue.front());
        queue.pop_front();
      }
      Diagnostics why;
      Outcome out = Outcome::abandoned;
      try {
        out = co_await send(b, why);
      } catch (const std::exception& e) {
        why.message = where(b) + ": " + redact(e.what());
        out = Outcome::failed;
      }
      std::lock_guard lk(m);
      queued_bytes -= b.lines.size();
      completed = b.seq;
      if (out == Outcome::failed && b.seq > abandon_upto) {
        last_failed = b.seq;
        failed_diag = why;
      } else if (out == Outcome::refused) {
        refused = true;
        refused_diag = why;
      }
      cv.notify_all();
    }
    std::lock_guard lk(m);
    loop_done = true;
    cv.notify_all();
  }
};

result<std::unique_ptr<DevoHttpSink>> DevoHttpSink::create(DevoHttpSinkOptions options, Diagnostics& diag) {
  if (auto v = validate(options, diag); !v) return v.error();
  auto url = devo_http_endpoint(options, diag);
  if (!url) return url.error();
  auto target = parse_devo_http_endpoint(*url, diag);
  if (!target) return target.error();
  auto impl = std::make_unique<Impl>(std::move(options));
  impl->target = std::move(*target);
  impl->hostname = impl->opts.hostname.empty() ? local_host_name() : impl->opts.hostname;
  impl->token_encoded = devo_http_stream_path("", "", impl->opts.token, "", "");
  impl->token_encoded = impl->token_encoded.substr(impl->token_encoded.find('!') + 1);
  impl->token_encoded.resize(impl->token_encoded.find('/'));
  impl->compressor = libdeflate_alloc_compressor(impl->opts.compression_level);
  if (impl->compressor == nullptr) {
    diag.clear();
    diag.message = "devo_http: cannot allocate a gzip compressor";
    return make_error_code(client_errc::invalid_argument);
  }
  transport::HttpsClientConfig hc;
  hc.verify_tls = impl->opts.verify_server;
  hc.ca_bundle = impl->opts.ca_bundle;
  hc.proxy = impl->opts.proxy ? *impl->opts.proxy : transport::proxy_config_from_environment(process_environment());
  hc.max_idle_per_host = 2;
  Diagnostics pd;
  if (auto p = transport::select_proxy(hc.proxy, impl->target.scheme, "devo.invalid", "443", pd); !p) {
    diag.clear();
    diag.message = "devo_http: " + pd.message;
    return p.error();
  }
  Diagnostics hd;
  auto client = transport::HttpsClient::create(impl->io.get_executor(), hc, hd);
  if (!client) {
    diag.clear();
    diag.message = "devo_http: ca_bundle: " + hd.message;
    return client.error();
  }
  impl->client = std::make_unique<transport::HttpsClient>(std::move(*client));
  if (!impl->opts.verify_server) {
    const std::string w = "ctsqs: warning: devo_http: verify_server is false: the server certificate is not checked";
    if (impl->opts.log) impl->opts.log(w);
    else std::cerr << w << '\n';
  }
  Impl* p = impl.get();
  asio::co_spawn(p->io, p->run_loop(), asio::bind_cancellation_slot(p->cancel.slot(), asio::detached));
  p->thread = std::thread([p] { p->io.run(); });
  return std::unique_ptr<DevoHttpSink>(new DevoHttpSink(std::move(impl)));
}

DevoHttpSink::DevoHttpSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DevoHttpSink::~DevoHttpSink() {
  Impl& s = *impl_;
  {
    std::lock_guard lk(s.m);
    s.stopping = true;
    s.cv.notify_all();
  }
  s.poke_cancel();
  {
    std::unique_lock lk(s.m);
    s.cv.wait_for(lk, std::chrono::seconds(5), [&] { return s.loop_done; });
  }
  asio::post(s.io, [p = &s] {
    p->client->close_idle();
    p->work.reset();
  });
  s.io.stop();
  if (s.thread.joinable()) s.thread.join();
  s.client.reset();
}

result<void> DevoHttpSink::write(const Event& event, Diagnostics& diag) { return impl_->write(event, diag); }
result<void> DevoHttpSink::flush(Diagnostics& diag) { return impl_->flush(diag); }

DevoHttpSink::Stats DevoHttpSink::stats() const {
  std::lock_guard lk(impl_->m);
  return impl_->stats;
}

}  // namespace ctsqs
