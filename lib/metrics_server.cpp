// MetricsServer: accept loop and a minimal HTTP/1.1 exchange for GET /metrics.
#include "ctsqs/collector/metrics_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <charconv>

namespace ctsqs {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct MetricsServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor ex, std::function<std::string()> r, MetricsServerOptions o)
      : acceptor(ex), render(std::move(r)), opts(o) {}
  tcp::acceptor acceptor;
  std::function<std::string()> render;
  MetricsServerOptions opts;
  bool stopped = false;
  std::atomic<std::size_t> active{0};  ///< connections being served

  /// Gives back the connection slot taken in accept_loop when serve() ends, however it ends.
  struct SlotRelease {
    std::shared_ptr<Impl> impl;
    explicit SlotRelease(std::shared_ptr<Impl> i) : impl(std::move(i)) {}
    SlotRelease(const SlotRelease&) = delete;
    SlotRelease& operator=(const SlotRelease&) = delete;
    ~SlotRelease() { --impl->active; }
  };

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, sock] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) break;
        // E.g. out of file descriptors: wait a little instead of spinning on the error.
        asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (active >= opts.max_connections) {
        boost::system::error_code ignored;
        sock.close(ignored);  // over the cap: refused at once rather than queued
        continue;
      }
      ++active;  // taken here, not when serve() starts, so a burst of accepts cannot overshoot
      asio::co_spawn(acceptor.get_executor(), serve(self, std::make_shared<tcp::socket>(std::move(sock))),
                     asio::detached);
    }
  }

  static asio::awaitable<void> serve(std::shared_ptr<Impl> self, std::shared_ptr<tcp::socket> sock_ptr) {
    SlotRelease slot{self};
    tcp::socket& sock = *sock_ptr;
    // A slow or silent client must not hold the socket forever. The handler owns the socket too:
    // its expiry may already be queued when this coroutine ends, and cancel() cannot recall it.
    asio::steady_timer deadline(sock.get_executor(), self->opts.client_timeout);
    deadline.async_wait([sock_ptr](boost::system::error_code e) {
      if (!e) {
        boost::system::error_code ignored;
        sock_ptr->close(ignored);
      }
    });
    asio::streambuf buf(16 * 1024);
    auto [ec, n] = co_await asio::async_read_until(sock, buf, "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n));
    const auto line_end = head.find("\r\n");
    const std::string line = head.substr(0, line_end);
    std::string status = "200 OK", body, type = "text/plain; version=0.0.4; charset=utf-8";
    if (line.rfind("GET /metrics ", 0) == 0 || line.rfind("GET /metrics?", 0) == 0) {
      body = self->render();
    } else if (line.rfind("GET ", 0) == 0) {
      status = "404 Not Found";
      body = "not found: try /metrics\n";
      type = "text/plain";
    } else {
      status = "405 Method Not Allowed";
      body = "only GET /metrics\n";
      type = "text/plain";
    }
    std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    co_await asio::async_write(sock, asio::buffer(resp), asio::as_tuple(asio::use_awaitable));
    boost::system::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    deadline.cancel();
  }
};

MetricsServer::MetricsServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsServer::~MetricsServer() { stop(); }

unsigned short MetricsServer::port() const noexcept {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void MetricsServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

result<std::unique_ptr<MetricsServer>> MetricsServer::start(asio::any_io_executor executor, std::string_view address,
                                                            std::function<std::string()> render, Diagnostics& diag,
                                                            MetricsServerOptions options) {
  auto bad = [&](std::string why) -> result<std::unique_ptr<MetricsServer>> {
    diag.message = "metrics listen address \"" + std::string(address) + "\": " + why;
    return make_error_code(client_errc::invalid_argument);
  };
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return bad("expected HOST:PORT");
  std::string_view host = address.substr(0, colon), port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto [p, e] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (e != std::errc{} || p != port_text.data() + port_text.size() || port > 65535) return bad("bad port");
  asio::ip::address ip;
  if (host == "localhost") {
    ip = asio::ip::address_v4::loopback();
  } else {
    boost::system::error_code ec;
    ip = asio::ip::make_address(std::string(host), ec);
    if (ec) return bad("not an IP address (use 127.0.0.1, [::1] or localhost)");
  }
  if (!ip.is_loopback()) return bad("only loopback addresses are allowed (the endpoint has no authentication)");
  auto impl = std::make_shared<Impl>(executor, std::move(render), options);
  boost::system::error_code ec;
  tcp::endpoint ep(ip, static_cast<unsigned short>(port));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    diag.message = "metrics listen address \"" + std::string(address) + "\": " + ec.message();
    return ec;
  }
  asio::co_spawn(executor, impl->accept_loop(), asio::detached);
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

}  // namespace ctsqs
