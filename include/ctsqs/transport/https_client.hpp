// HttpsClient: HTTP/1.1 over TLS (or plain HTTP for explicit endpoints) with verification,
// a keep-alive pool, per-attempt timeouts, proxies, size limits and streamed bodies.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"
#include "ctsqs/transport/proxy.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace ctsqs::transport {

namespace asio = boost::asio;

namespace detail {
struct HttpsClientImpl;  // Beast/Asio SSL state, defined in lib/transport/https_client.cpp
}

/// Errors of the transport itself (socket and TLS errors keep their Asio/OpenSSL codes).
enum class transport_errc : int {
  proxy_refused = 1,   ///< the proxy answered CONNECT with a non-2xx status
  invalid_target,      ///< the request's scheme/host cannot be connected to
  tls_setup_failed,    ///< the TLS session could not be set up (SNI, host name check)
  address_not_allowed, ///< the host resolved to an address ExchangeOptions::allow_address refused
};

/// The category of transport_errc.
const boost::system::error_category& transport_category() noexcept;

inline error_code make_error_code(transport_errc e) noexcept {
  return {static_cast<int>(e), transport_category()};
}

/// Settings of one HttpsClient (fixed for its lifetime).
struct HttpsClientConfig {
  bool verify_tls = true;       ///< verify the certificate chain and host name (on by default)
  std::string ca_bundle;        ///< PEM file of CAs trusted in addition to the system store
  ProxyConfig proxy;            ///< proxies; see proxy_config_from_environment()
  std::size_t max_body_bytes = 64u << 20;    ///< largest buffered response body
  std::size_t max_header_bytes = 64u << 10;  ///< largest response header block
  std::size_t max_error_body_bytes = 1u << 20;  ///< largest non-2xx body kept when streaming
  /// Size of the chunks handed to a BodyChunkHandler (at most; one buffer per streamed response).
  /// 256 KiB: each chunk of an S3 object is one hand-over to a decode thread and back, and 64 KiB
  /// chunks cost the collector 4% more CPU and wall time (docs/benchmarks.md).
  std::size_t stream_chunk_bytes = 256u << 10;
  std::size_t max_idle_per_host = 16;        ///< pooled keep-alive connections per host
  /// A pooled connection idle longer than this is closed rather than reused (AWS front ends
  /// close idle connections after roughly 20 s or more).
  std::chrono::milliseconds idle_timeout{15000};
  std::string user_agent = "ctsqs/0.1.0";    ///< sent when the request has no User-Agent
};

/// `client_errc::invalid_argument` naming the field when a limit cannot work: `max_body_bytes`
/// or `max_header_bytes` zero (`max_header_bytes` also above 4 GiB, the parser's bound), or
/// `idle_timeout` negative. Does not read the CA bundle (HttpsClient::create does).
result<void> validate(const HttpsClientConfig& config, Diagnostics& diag);

/// Per-exchange (per-attempt) limits.
struct ExchangeOptions {
  /// Resolve + TCP connect + proxy CONNECT + TLS handshake must finish within this.
  std::chrono::milliseconds connect_timeout{5000};
  /// Buffered exchange: sending the request and reading the whole response must finish within
  /// this. Streaming exchange: the longest wait for the response header or the next chunk.
  std::chrono::milliseconds read_timeout{30000};
  std::size_t max_body_bytes = 0;  ///< 0: the client's max_body_bytes
  /// Connect directly even when a proxy is configured (instance/container metadata endpoints).
  bool bypass_proxy = false;
  /// Streaming exchange: called with the status and headers of a 2xx answer before any body
  /// byte is handed on (e.g. to tell a 206 from a 200 that ignored the Range). An error ends the
  /// exchange with the body unread (the connection is not reused) and is returned.
  std::function<result<void>(const HttpResponse& head)> on_header;
  /// When set, every address the connected host (the proxy, when one is used) resolves to must
  /// pass it, else the exchange fails with transport_errc::address_not_allowed before any
  /// connection is made. The check applies to the very addresses connected to, so a second DNS
  /// answer cannot slip past it; such exchanges only reuse connections opened under a check.
  std::function<bool(const asio::ip::address&)> allow_address;
};

/// Receives a streamed body chunk by chunk. The next chunk is not read until the returned
/// awaitable completes (backpressure). An error stops the exchange and is returned by it.
using BodyChunkHandler =
    std::function<asio::awaitable<result<void>>(std::span<const std::byte> chunk)>;

/// An HTTP/1.1 client for AWS endpoints, bound to one executor.
///
/// TLS 1.2+ with chain and host name verification (system trust store plus an optional
/// bundle), SNI, a keep-alive pool per (scheme, host, port, proxy), proxies with CONNECT
/// tunnels for https and absolute-form targets for http. A pooled connection that fails
/// before any response byte arrived is replaced by a fresh one once, transparently.
///
/// Thread safety: exchanges may run concurrently (the pool is locked); the client must outlive
/// every exchange it started. Movable, not copyable.
class HttpsClient {
 public:
  /// A client with the default configuration (system trust store, no proxy); cannot fail.
  explicit HttpsClient(asio::any_io_executor executor);

  /// A client for `config`, or `client_errc::invalid_argument` when `validate(config)` fails
  /// (`diag.message` names the field) or the CA bundle cannot be read or holds no PEM
  /// certificate (it names the file). The bundle is parsed at the first TLS connection, with the
  /// system store (a client of plain-http endpoints never pays for it); a bundle that does not
  /// parse fails that connection and every later one with `transport_errc::tls_setup_failed`,
  /// naming the file.
  static result<HttpsClient> create(asio::any_io_executor executor, HttpsClientConfig config,
                                    Diagnostics& diag);
  ~HttpsClient();
  HttpsClient(HttpsClient&&) noexcept;
  HttpsClient& operator=(HttpsClient&&) noexcept;

  /// The executor connections are created on.
  asio::any_io_executor get_executor() const;

  /// Send `req` and read the whole response (body limited by max_body_bytes).
  /// Any HTTP status is a success here; errors are connection, TLS, timeout and limit errors,
  /// with `diag.message` saying which host and step failed.
  asio::awaitable<result<HttpResponse>> async_exchange(HttpRequest req, ExchangeOptions opts,
                                                       Diagnostics& diag);

  /// Send `req`; on a 2xx status hand the body to `on_body` in chunks of at most
  /// stream_chunk_bytes (the returned response has an empty body), so a large object is never
  /// held whole. Other statuses buffer the body (up to max_error_body_bytes) into the response
  /// for error parsing. `on_body` is not called at all for a non-2xx status.
  asio::awaitable<result<HttpResponse>> async_exchange_streaming(HttpRequest req,
                                                                 ExchangeOptions opts,
                                                                 BodyChunkHandler on_body,
                                                                 Diagnostics& diag);

  /// Close every idle pooled connection.
  void close_idle();

  /// How many connections were opened so far (keep-alive reuse shows as a small number).
  std::size_t connections_opened() const noexcept;

 private:
  explicit HttpsClient(std::shared_ptr<detail::HttpsClientImpl> impl);
  std::shared_ptr<detail::HttpsClientImpl> impl_;
};

}  // namespace ctsqs::transport

template <>
struct boost::system::is_error_code_enum<ctsqs::transport::transport_errc> : std::true_type {};
