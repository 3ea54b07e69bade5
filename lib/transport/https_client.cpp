// HttpsClient over Boost.Beast: TLS with verification, keep-alive pool, timeouts, proxies,
// size limits and streamed bodies. The only translation unit that includes Beast + Asio SSL.
#include "ctsqs/transport/https_client.hpp"
#include "../detail/error_category.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ctsqs::transport {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

const char* describe(transport_errc e) noexcept {
  switch (e) {
    case transport_errc::proxy_refused: return "the proxy refused the CONNECT tunnel";
    case transport_errc::invalid_target: return "the request target cannot be connected to";
    case transport_errc::tls_setup_failed: return "the TLS session could not be set up";
    case transport_errc::address_not_allowed: return "the host resolved to an address that is not allowed";
  }
  return nullptr;
}

/// Where a request goes: scheme, host (no brackets), port.
struct Target {
  bool tls = true;
  std::string scheme;
  std::string host;
  std::string port;
  std::string host_header;  // host[:port] as the request carries it
};

result<Target> parse_target(const HttpRequest& req, Diagnostics& diag) {
  Target t;
  t.scheme = req.scheme;
  if (t.scheme != "https" && t.scheme != "http") {
    diag.message = "unsupported URL scheme '" + req.scheme + "' (expected https or http)";
    return make_error_code(transport_errc::invalid_target);
  }
  t.tls = t.scheme == "https";
  std::string_view h = req.host;
  std::string_view port;
  if (!h.empty() && h.front() == '[') {
    auto close = h.find(']');
    if (close == std::string_view::npos) h = {};
    else {
      if (close + 1 < h.size() && h[close + 1] == ':') port = h.substr(close + 2);
      h = h.substr(1, close - 1);
    }
  } else if (auto c = h.find(':'); c != std::string_view::npos && h.find(':', c + 1) == std::string_view::npos) {
    port = h.substr(c + 1);
    h = h.substr(0, c);
  }
  if (h.empty()) {
    diag.message = "request has no host (" + req.url() + ")";
    return make_error_code(transport_errc::invalid_target);
  }
  t.host = std::string(h);
  t.port = port.empty() ? (t.tls ? "443" : "80") : std::string(port);
  t.host_header = req.host;
  return t;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

/// One open connection: plain TCP or TLS over TCP, with its read buffer (leftover bytes).
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool absolute_form = false;  // plain http through a proxy
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  void close() {
    boost::system::error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp().socket().close(ec);
  }
};

/// What one send/receive on a connection produced.
struct Outcome {
  error_code ec;
  bool got_bytes = false;   // some response bytes arrived (no transparent replay then)
  bool keep_alive = false;
  std::string step;         // what failed, for the diagnostics
  HttpResponse response;
};

template <class Message>
void copy_head(const Message& m, HttpResponse& out) {
  out.status = static_cast<int>(m.result_int());
  out.headers.clear();
  for (const auto& f : m)
    out.headers.push_back({std::string(f.name_string()), std::string(f.value())});
}

template <class Stream>
asio::awaitable<Outcome> exchange_on(Stream& stream, Connection& conn,
                                     http::request<http::string_body>& msg, ExchangeOptions opts,
                                     std::size_t max_body, const HttpsClientConfig& cfg,
                                     const BodyChunkHandler* on_body) {
  Outcome out;
  conn.tcp().expires_after(opts.read_timeout);
  auto [wec, wn] = co_await http::async_write(stream, msg, use_tuple);
  (void)wn;
  if (wec) {
    out.ec = wec;
    out.step = "sending the request";
    co_return out;
  }
  const bool head = msg.method() == http::verb::head;
  if (!on_body) {
    http::response_parser<http::string_body> p;
    p.header_limit(static_cast<std::uint32_t>(cfg.max_header_bytes));
    p.body_limit(max_body);
    if (head) p.skip(true);
    auto [rec, rn] = co_await http::async_read(stream, conn.buffer, p, use_tuple);
    (void)rn;
    conn.tcp().expires_never();
    out.got_bytes = p.got_some();
    if (rec) {
      out.ec = rec;
      out.step = rec == http::error::body_limit
                     ? "reading the response (body larger than " + std::to_string(max_body) + " bytes)"
                     : "reading the response";
      co_return out;
    }
    copy_head(p.get(), out.response);
    out.response.body = std::move(p.get().body());
    out.keep_alive = p.get().keep_alive();
    co_return out;
  }

  http::response_parser<http::buffer_body> p;
  p.header_limit(static_cast<std::uint32_t>(cfg.max_header_bytes));
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (head) p.skip(true);
  auto [hec, hn] = co_await http::async_read_header(stream, conn.buffer, p, use_tuple);
  (void)hn;
  out.got_bytes = p.got_some();
  if (hec) {
    out.ec = hec;
    out.step = "reading the response header";
    co_return out;
  }
  copy_head(p.get(), out.response);
  const bool success = out.response.status / 100 == 2;
  if (success && opts.on_header) {
    if (auto h = opts.on_header(out.response); !h) {
      out.ec = h.error();
      out.step = "checking the response header";
      co_return out;
    }
  }
  std::vector<char> buf(success ? std::max<std::size_t>(cfg.stream_chunk_bytes, 1024) : 16384);
  if (success && !head && !p.is_done() && !p.chunked() && p.content_length()) {
    // A body of known length (what S3 sends for GetObject) is read from the socket straight
    // into the chunk buffer: the parser would read it 64 KiB at a time into the connection's
    // buffer and copy it out, a composed operation and a copy per 64 KiB (measured in
    // docs/benchmarks.md). Bytes that came with the header are taken from that buffer first.
    std::uint64_t left = *p.content_length();
    std::size_t filled = 0;
    while (left > 0) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size() - filled));
      std::size_t n = 0;
      // The read timeout bounds each chunk, as the parser's read of a whole chunk did: a
      // server that trickles bytes is timed out too.
      if (filled == 0) conn.tcp().expires_after(opts.read_timeout);
      if (conn.buffer.size() > 0) {
        n = asio::buffer_copy(asio::buffer(buf.data() + filled, want), conn.buffer.data());
        conn.buffer.consume(n);
      } else {
        auto [ec, got] = co_await stream.async_read_some(asio::buffer(buf.data() + filled, want), use_tuple);
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) ec = http::error::partial_message;
        if (ec) {
          out.ec = ec;
          out.step = "reading the response body";
          co_return out;
        }
        n = got;
      }
      filled += n;
      left -= n;
      if (filled == buf.size() || left == 0) {
        std::span<const std::byte> chunk(reinterpret_cast<const std::byte*>(buf.data()), filled);
        filled = 0;
        result<void> r = co_await (*on_body)(chunk);
        if (!r) {
          out.ec = r.error();
          out.step = "handing the response body on";
          co_return out;
        }
      }
    }
    conn.tcp().expires_never();
    out.keep_alive = p.get().keep_alive();
    co_return out;
  }
  while (!p.is_done()) {
    conn.tcp().expires_after(opts.read_timeout);
    p.get().body().data = buf.data();
    p.get().body().size = buf.size();
    auto [ec, n] = co_await http::async_read(stream, conn.buffer, p, use_tuple);
    (void)n;
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      out.ec = ec;
      out.step = "reading the response body";
      co_return out;
    }
    const std::size_t got = buf.size() - p.get().body().size;
    if (got == 0) continue;
    if (success) {
      std::span<const std::byte> chunk(reinterpret_cast<const std::byte*>(buf.data()), got);
      result<void> r = co_await (*on_body)(chunk);
      if (!r) {
        out.ec = r.error();
        out.step = "handing the response body on";
        co_return out;
      }
    } else {
      if (out.response.body.size() + got > cfg.max_error_body_bytes) {
        out.ec = make_error_code(client_errc::limit_exceeded);
        out.step = "reading an error response body (larger than " +
                   std::to_string(cfg.max_error_body_bytes) + " bytes)";
        co_return out;
      }
      out.response.body.append(buf.data(), got);
    }
  }
  conn.tcp().expires_never();
  out.keep_alive = p.get().keep_alive();
  co_return out;
}

std::string describe(const error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

}  // namespace

const boost::system::error_category& transport_category() noexcept {
  static const ctsqs::detail::EnumErrorCategory<transport_errc> cat("ctsqs.transport", describe, "unknown transport error");
  return cat;
}

struct detail::HttpsClientImpl {
  asio::any_io_executor executor;
  HttpsClientConfig cfg;
  ssl::context ctx{ssl::context::tls_client};
  std::mutex mu;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  std::atomic<std::size_t> opened{0};

  HttpsClientImpl(asio::any_io_executor ex, HttpsClientConfig c) : executor(std::move(ex)), cfg(std::move(c)) {
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    ctx.set_verify_mode(cfg.verify_tls ? ssl::verify_peer : ssl::verify_none);
  }

  /// Checks the configured CA bundle at HttpsClient::create: it can be read and holds a PEM
  /// certificate. It is parsed, as the system trust store is, at the first TLS connection
  /// (ensure_trust): parsing a whole bundle costs about 25 ms of CPU (the 140 certificates of
  /// Debian's) that a client of plain-http endpoints (an emulator, a local S3) never needs.
  result<void> check_ca_bundle(Diagnostics& diag) const {
    if (cfg.ca_bundle.empty()) return {};
    auto refuse = [&](const std::string& why) -> result<void> {
      diag.clear();
      diag.message = "CA bundle '" + cfg.ca_bundle + "' could not be loaded: " + why;
      return make_error_code(client_errc::invalid_argument);
    };
    // Non-blocking open: a FIFO in its place must not hang the caller (refused below).
    const int fd = ::open(cfg.ca_bundle.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return refuse(std::strerror(errno));
    struct FdCloser {
      int fd;
      ~FdCloser() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return refuse(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return refuse("not a regular file");
    std::string text;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return refuse(std::strerror(errno));
      if (n == 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    for (const char* begin : {"-----BEGIN CERTIFICATE-----", "-----BEGIN TRUSTED CERTIFICATE-----",
                              "-----BEGIN X509 CERTIFICATE-----"})
      if (text.find(begin) != std::string::npos) return {};
    return refuse("no PEM certificate in it");
  }

  std::once_flag trust_once;
  std::string trust_error;  // set once by ensure_trust: the CA bundle's load failed
  /// Loads the CA bundle and the system trust store into the context, once, before the first
  /// TLS connection; false (with trust_error) when the bundle does not parse.
  bool ensure_trust() {
    std::call_once(trust_once, [this] {
      boost::system::error_code ec;
      if (!cfg.verify_tls) return;  // nothing is verified: nothing to load
      if (!cfg.ca_bundle.empty()) {
        ctx.load_verify_file(cfg.ca_bundle, ec);
        if (ec) trust_error = "CA bundle '" + cfg.ca_bundle + "' could not be loaded: " + ec.message();
      }
      ctx.set_default_verify_paths(ec);  // no usable system store: verification fails, naming the host
    });
    return trust_error.empty();
  }

  std::unique_ptr<Connection> take(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto& v = it->second;
    const auto now = std::chrono::steady_clock::now();
    while (!v.empty()) {
      auto c = std::move(v.back());
      v.pop_back();
      if (now - c->idle_since < cfg.idle_timeout) return c;
      c->close();
    }
    return nullptr;
  }

  void give_back(const std::string& key, std::unique_ptr<Connection> c) {
    c->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(mu);
    auto& v = idle[key];
    if (v.size() >= cfg.max_idle_per_host) {
      c->close();
      return;
    }
    v.push_back(std::move(c));
  }
};

namespace {

asio::awaitable<result<std::unique_ptr<Connection>>> open_connection(
    std::shared_ptr<detail::HttpsClientImpl> self, Target t, std::optional<ProxyEndpoint> proxy,
    ExchangeOptions opts, Diagnostics& diag);

}  // namespace

result<void> validate(const HttpsClientConfig& c, Diagnostics& diag) {
  auto invalid = [&diag](std::string message) -> result<void> {
    diag.clear();
    diag.message = std::move(message);
    return make_error_code(client_errc::invalid_argument);
  };
  if (c.max_body_bytes == 0) return invalid("max_body_bytes: must be at least 1");
  if (c.max_header_bytes == 0 || c.max_header_bytes > std::numeric_limits<std::uint32_t>::max())
    return invalid("max_header_bytes: must be 1..4294967295, got " + std::to_string(c.max_header_bytes));
  if (c.idle_timeout.count() < 0) return invalid("idle_timeout: must not be negative");
  return {};
}

HttpsClient::HttpsClient(asio::any_io_executor executor)
    : impl_(std::make_shared<detail::HttpsClientImpl>(std::move(executor), HttpsClientConfig{})) {}
HttpsClient::HttpsClient(std::shared_ptr<detail::HttpsClientImpl> impl) : impl_(std::move(impl)) {}

result<HttpsClient> HttpsClient::create(asio::any_io_executor executor, HttpsClientConfig config,
                                        Diagnostics& diag) {
  if (auto v = validate(config, diag); !v) return v.error();
  auto impl = std::make_shared<detail::HttpsClientImpl>(std::move(executor), std::move(config));
  if (auto checked = impl->check_ca_bundle(diag); !checked) return checked.error();
  return HttpsClient(std::move(impl));
}
HttpsClient::~HttpsClient() = default;
HttpsClient::HttpsClient(HttpsClient&&) noexcept = default;
HttpsClient& HttpsClient::operator=(HttpsClient&&) noexcept = default;

asio::any_io_executor HttpsClient::get_executor() const { return impl_->executor; }

void HttpsClient::close_idle() {
  std::lock_guard lock(impl_->mu);
  for (auto& [key, v] : impl_->idle)
    for (auto& c : v) c->close();
  impl_->idle.clear();
}

std::size_t HttpsClient::connections_opened() const noexcept { return impl_->opened.load(); }

namespace {

asio::awaitable<result<std::unique_ptr<Connection>>> open_connection(
    std::shared_ptr<detail::HttpsClientImpl> self, Target t, std::optional<ProxyEndpoint> proxy,
    ExchangeOptions opts, Diagnostics& diag) {
  const std::string& chost = proxy ? proxy->host : t.host;
  const std::string& cport = proxy ? proxy->port : t.port;
  const std::string where = proxy ? "proxy " + chost + ":" + cport + " (for " + t.host + ":" + t.port + ")"
                                  : t.host + ":" + t.port;
  tcp::resolver resolver(self->executor);
  auto [rec, results] = co_await resolver.async_resolve(chost, cport, use_tuple);
  if (rec) {
    diag.message = "resolving " + where + ": " + rec.message();
    co_return rec;
  }
  if (opts.allow_address)
    for (const auto& entry : results)
      if (const auto a = entry.endpoint().address(); !opts.allow_address(a)) {
        diag.message = where + " resolves to " + a.to_string() + ", which is not allowed here";
        co_return make_error_code(transport_errc::address_not_allowed);
      }
  beast::tcp_stream stream(self->executor);
  stream.expires_after(opts.connect_timeout);
  auto [cec, endpoint] = co_await stream.async_connect(results, use_tuple);
  (void)endpoint;
  if (cec) {
    diag.message = "connecting to " + where + ": " + describe(cec);
    co_return cec;
  }
  // Beast writes a request's header and body in separate sends: with Nagle's algorithm the body
  // would wait for the ACK of the header, which the peer delays (~40 ms per request).
  boost::system::error_code nodelay_ec;
  stream.socket().set_option(tcp::no_delay(true), nodelay_ec);
  auto conn = std::make_unique<Connection>();
  if (proxy && t.tls) {
    // CONNECT tunnel (RFC 9110 9.3.6); TLS then runs end to end through it.
    const std::string authority = (t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host) + ":" + t.port;
    http::request<http::empty_body> creq{http::verb::connect, authority, 11};
    creq.set(http::field::host, authority);
    if (!proxy->authorization.empty()) creq.set(http::field::proxy_authorization, proxy->authorization);
    auto [pwec, pwn] = co_await http::async_write(stream, creq, use_tuple);
    (void)pwn;
    if (pwec) {
      diag.message = "sending CONNECT to " + where + ": " + describe(pwec);
      co_return pwec;
    }
    http::response_parser<http::empty_body> pres;
    pres.skip(true);
    auto [prec, prn] = co_await http::async_read(stream, conn->buffer, pres, use_tuple);
    (void)prn;
    if (prec) {
      diag.message = "reading the CONNECT answer of " + where + ": " + describe(prec);
      co_return prec;
    }
    if (pres.get().result_int() / 100 != 2) {
      diag.message = "CONNECT through " + where + " refused: HTTP " +
                     std::to_string(pres.get().result_int()) + " " + std::string(pres.get().reason());
      diag.http_status = static_cast<int>(pres.get().result_int());
      co_return make_error_code(transport_errc::proxy_refused);
    }
    conn->buffer.clear();
  }
  if (proxy && !t.tls) conn->absolute_form = true;

  if (t.tls) {
    if (!self->ensure_trust()) {
      diag.message = "TLS setup for " + t.host + ": " + self->trust_error;
      co_return make_error_code(transport_errc::tls_setup_failed);
    }
    auto s = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(stream), self->ctx);
    SSL* ssl_handle = s->native_handle();
    const bool ip = is_ip_literal(t.host);
    // SNI is for names only (RFC 6066 3).
    if (!ip && !SSL_set_tlsext_host_name(ssl_handle, t.host.c_str())) {
      diag.message = "TLS setup for " + t.host + ": cannot set SNI";
      co_return make_error_code(transport_errc::tls_setup_failed);
    }
    if (self->cfg.verify_tls) {
      // OpenSSL's own host name / IP check, so a mismatch reports a precise verify result.
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, t.host.c_str())
                  : X509_VERIFY_PARAM_set1_host(param, t.host.c_str(), t.host.size());
      if (ok != 1) {
        diag.message = "TLS setup for " + t.host + ": cannot set the expected host name";
        co_return make_error_code(transport_errc::tls_setup_failed);
      }
    }
    auto [hec] = co_await s->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      std::string detail = describe(hec);
      long vr = SSL_get_verify_result(ssl_handle);
      if (vr != X509_V_OK) detail += std::string(" (") + X509_verify_cert_error_string(vr) + ")";
      diag.message = "TLS handshake with " + t.host + ":" + t.port + ": " + detail;
      co_return hec;
    }
    beast::get_lowest_layer(*s).expires_never();
    conn->secure = std::move(s);
  } else {
    stream.expires_never();
    conn->plain = std::make_unique<beast::tcp_stream>(std::move(stream));
  }
  self->opened.fetch_add(1);
  co_return std::move(conn);
}

asio::awaitable<result<HttpResponse>> run_exchange(std::shared_ptr<detail::HttpsClientImpl> self,
                                                   HttpRequest req, ExchangeOptions opts,
                                                   const BodyChunkHandler* on_body,
                                                   Diagnostics& diag) {
  auto target = parse_target(req, diag);
  if (!target) co_return target.error();
  auto proxy = opts.bypass_proxy
                   ? result<std::optional<ProxyEndpoint>>(std::optional<ProxyEndpoint>{})
                   : select_proxy(self->cfg.proxy, target->scheme, target->host, target->port, diag);
  if (!proxy) co_return proxy.error();
  std::string key = target->scheme + "://" + target->host + ":" + target->port;
  if (*proxy) key += " via " + (*proxy)->host + ":" + (*proxy)->port;
  if (opts.allow_address) key += " (addresses checked)";
  const std::size_t max_body = opts.max_body_bytes ? opts.max_body_bytes : self->cfg.max_body_bytes;

  http::request<http::string_body> msg;
  msg.version(11);
  msg.method_string(req.method);
  std::string origin_form = req.path.empty() ? "/" : req.path;
  if (!req.query.empty()) origin_form += "?" + req.query;
  for (const auto& h : req.headers) msg.insert(h.name, h.value);
  if (!req.find_header("host")) msg.set(http::field::host, req.host);
  if (!req.find_header("user-agent")) msg.set(http::field::user_agent, self->cfg.user_agent);
  msg.body() = std::move(req.body);
  msg.prepare_payload();

  for (int round = 0;; ++round) {
    std::unique_ptr<Connection> conn = self->take(key);
    const bool reused = conn != nullptr;
    if (!conn) {
      auto opened = co_await open_connection(self, *target, *proxy, opts, diag);
      if (!opened) co_return opened.error();
      conn = std::move(*opened);
    }
    msg.target(conn->absolute_form ? target->scheme + "://" + req.host + origin_form : origin_form);
    if (conn->absolute_form && !(*proxy)->authorization.empty())
      msg.set(http::field::proxy_authorization, (*proxy)->authorization);
    // No co_await inside ?: — g++ 12 miscompiles it.
    Outcome out;
    if (conn->secure)
      out = co_await exchange_on(*conn->secure, *conn, msg, opts, max_body, self->cfg, on_body);
    else
      out = co_await exchange_on(*conn->plain, *conn, msg, opts, max_body, self->cfg, on_body);
    if (out.ec) {
      conn->close();
      // A kept-alive connection the server closed meanwhile: replay once on a fresh one.
      if (reused && !out.got_bytes && round == 0 && out.ec != beast::error::timeout) continue;
      diag.message = out.step + " (" + req.method + " " + target->scheme + "://" + req.host +
                     req.path + "): " + describe(out.ec);
      if (out.ec == http::error::body_limit) co_return make_error_code(client_errc::limit_exceeded);
      co_return out.ec;
    }
    if (out.keep_alive) self->give_back(key, std::move(conn));
    else conn->close();
    co_return std::move(out.response);
  }
}

}  // namespace

asio::awaitable<result<HttpResponse>> HttpsClient::async_exchange(HttpRequest req,
                                                                  ExchangeOptions opts,
                                                                  Diagnostics& diag) {
  auto self = impl_;
  co_return co_await run_exchange(std::move(self), std::move(req), opts, nullptr, diag);
}

asio::awaitable<result<HttpResponse>> HttpsClient::async_exchange_streaming(
    HttpRequest req, ExchangeOptions opts, BodyChunkHandler on_body, Diagnostics& diag) {
  auto self = impl_;
  co_return co_await run_exchange(std::move(self), std::move(req), opts, &on_body, diag);
}

}  // namespace ctsqs::transport
