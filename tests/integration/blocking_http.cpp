// Blocking HTTP/1.1 over Beast plain TCP for integration tests; timeouts via io_context::run_for.
#include "blocking_http.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <memory>
#include <optional>
#include <stdexcept>

namespace ctsqs::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Everything one exchange needs, kept alive by the completion handlers.
struct Exchange {
  explicit Exchange(asio::io_context& ioc) : resolver(ioc), stream(ioc) {}
  tcp::resolver resolver;
  beast::tcp_stream stream;
  http::request<http::string_body> request;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  beast::error_code ec;
  bool done = false;
};

void fail(const std::shared_ptr<Exchange>& x, beast::error_code ec) {
  x->ec = ec;
  x->done = true;
  beast::error_code ignored;
  x->stream.socket().close(ignored);
}

}  // namespace

HttpResponse http_exchange(const HttpRequest& req, std::chrono::milliseconds timeout) {
  std::string host = req.host;
  std::string port = req.scheme == "https" ? "443" : "80";
  if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos) {
    port = host.substr(colon + 1);
    host.resize(colon);
  }
  asio::io_context ioc;
  auto x = std::make_shared<Exchange>(ioc);
  auto& r = x->request;
  r.method_string(req.method);
  r.target(req.path + (req.query.empty() ? "" : "?" + req.query));
  r.version(11);
  for (const auto& h : req.headers) r.insert(h.name, h.value);
  if (r.find(http::field::host) == r.end()) r.set(http::field::host, req.host);
  r.body() = req.body;
  r.prepare_payload();
  x->parser.emplace();
  x->parser->body_limit(1024ull * 1024 * 1024);
  x->stream.expires_after(timeout);

  x->resolver.async_resolve(host, port, [x](beast::error_code ec, tcp::resolver::results_type eps) {
    if (ec) return fail(x, ec);
    x->stream.async_connect(eps, [x](beast::error_code ec2, const tcp::endpoint&) {
      if (ec2) return fail(x, ec2);
      http::async_write(x->stream, x->request, [x](beast::error_code ec3, std::size_t) {
        if (ec3) return fail(x, ec3);
        http::async_read(x->stream, x->buffer, *x->parser, [x](beast::error_code ec4, std::size_t) {
          if (ec4) return fail(x, ec4);
          x->done = true;
          beast::error_code ignored;
          x->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        });
      });
    });
  });
  // tcp_stream's expiry covers connect/write/read; run_for is a backstop for resolve.
  ioc.run_for(timeout + std::chrono::seconds(1));
  if (!x->done) throw std::runtime_error("http_exchange: " + req.method + " " + req.url() + ": timed out");
  if (x->ec)
    throw std::runtime_error("http_exchange: " + req.method + " " + req.url() + ": " + x->ec.message());

  auto msg = x->parser->release();
  HttpResponse out;
  out.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) out.headers.push_back({std::string(f.name_string()), std::string(f.value())});
  out.body = std::move(msg.body());
  return out;
}

HttpResponse http_call(std::string method, unsigned short port, std::string target, std::string body,
                       std::string content_type) {
  HttpRequest req;
  req.method = std::move(method);
  req.scheme = "http";
  req.host = "127.0.0.1:" + std::to_string(port);
  if (auto q = target.find('?'); q != std::string::npos) {
    req.query = target.substr(q + 1);
    target.resize(q);
  }
  req.path = std::move(target);
  if (!body.empty()) req.headers.push_back({"Content-Type", std::move(content_type)});
  req.body = std::move(body);
  return http_exchange(req);
}

}  // namespace ctsqs::test
