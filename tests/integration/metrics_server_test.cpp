// MetricsServer over real loopback sockets: the connection cap (one more is closed at once),
// slow and silent clients closed at the deadline, and a storm of short-lived connections racing
// the deadline (the handler once closed a socket its coroutine had already destroyed; run this
// under the asan preset to see such a use-after-free).
#include "ctsqs/collector/metrics_server.hpp"

#include "catch.hpp"
#include "unit/catch_result.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace ctsqs;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

/// A MetricsServer whose io_context runs on its own thread; the test thread plays the clients.
struct Served {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<MetricsServer> server;
  std::thread thread;

  explicit Served(MetricsServerOptions opts, std::chrono::milliseconds render_time = 0ms) {
    Diagnostics diag;
    auto render = [render_time] {
      std::this_thread::sleep_for(render_time);
      return std::string("up 1\n");
    };
    auto s = MetricsServer::start(io.get_executor(), "127.0.0.1:0", render, diag, opts);
    REQUIRE(s);
    server = std::move(*s);
    thread = std::thread([this] { io.run(); });
  }
  ~Served() {
    asio::post(io, [this] { server.reset(); });
    work.reset();
    std::this_thread::sleep_for(100ms);  // connections still open end when io_context goes
    io.stop();
    thread.join();
  }
  tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), server->port()}; }
};

/// Everything the server sends until it closes, or the error that ended the wait.
std::string read_all(tcp::socket& s, boost::system::error_code& ec) {
  std::string out;
  char buf[4096];
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) return out;
  }
}

std::string get_metrics(asio::io_context& client_io, const tcp::endpoint& ep) {
  tcp::socket s(client_io);
  s.connect(ep);
  asio::write(s, asio::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")));
  boost::system::error_code ec;
  return read_all(s, ec);
}

}  // namespace

TEST_CASE("metrics server: connections over the cap are closed at once, slots come back", "[integration][metrics]") {
  MetricsServerOptions opts;
  opts.max_connections = 4;
  opts.client_timeout = 20s;  // the silent clients would hold their slots this long
  Served srv(opts);
  asio::io_context client_io;
  std::vector<tcp::socket> silent;
  for (int i = 0; i < 4; ++i) {
    silent.emplace_back(client_io);
    silent.back().connect(srv.endpoint());
  }
  std::this_thread::sleep_for(200ms);  // accepted and waiting for their request

  const auto start = std::chrono::steady_clock::now();
  tcp::socket extra(client_io);
  extra.connect(srv.endpoint());
  boost::system::error_code ec;
  const std::string got = read_all(extra, ec);
  CHECK(got.empty());
  CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
  CHECK(std::chrono::steady_clock::now() - start < 5s);  // closed, not left to the 20 s deadline

  // A client that leaves gives its slot back.
  silent.front().close();
  std::this_thread::sleep_for(200ms);
  const std::string answer = get_metrics(client_io, srv.endpoint());
  CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(answer.find("up 1\n") != std::string::npos);
}

TEST_CASE("metrics server: a silent client is closed at the deadline", "[integration][metrics]") {
  MetricsServerOptions opts;
  opts.client_timeout = 300ms;
  Served srv(opts);
  asio::io_context client_io;
  tcp::socket s(client_io);
  s.connect(srv.endpoint());
  asio::write(s, asio::buffer(std::string("GET /metr")));  // and nothing more
  const auto start = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  CHECK(read_all(s, ec).empty());
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 250ms);
  CHECK(took < 5s);
}

TEST_CASE("metrics server: many short connections racing a tight deadline", "[integration][metrics]") {
  // Deadlines expire while requests complete, so timer expiries are queued as coroutines end.
  MetricsServerOptions opts;
  opts.client_timeout = 1ms;
  opts.max_connections = 8;
  Served srv(opts);
  asio::io_context client_io;
  int answered = 0;
  for (int i = 0; i < 400; ++i) {
    tcp::socket s(client_io);
    boost::system::error_code ec;
    s.connect(srv.endpoint(), ec);
    if (ec) continue;
    switch (i % 3) {
      case 0: asio::write(s, asio::buffer(std::string("GET /metrics HTTP/1.1\r\n\r\n")), ec); break;
      case 1: asio::write(s, asio::buffer(std::string("GET /")), ec); break;
      default: break;  // silent
    }
    if (read_all(s, ec).rfind("HTTP/1.1 200", 0) == 0) ++answered;
  }
  INFO("answered " << answered);
  // Still serving afterwards, with room for a normal client.
  std::this_thread::sleep_for(100ms);
  tcp::socket last(client_io);
  last.connect(srv.endpoint());
  boost::system::error_code ec;
  read_all(last, ec);  // closed at the 1 ms deadline or over the cap: either way, promptly
  CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
}

TEST_CASE("metrics server: the deadline expiring while the answer is rendered", "[integration][metrics]") {
  // The deadline's expiry is queued behind the answer's write completion, so the serving
  // coroutine ends (and used to free the socket) before the deadline handler closes it.
  MetricsServerOptions opts;
  opts.client_timeout = 2ms;
  Served srv(opts, 10ms);
  asio::io_context client_io;
  for (int i = 0; i < 20; ++i) {
    tcp::socket s(client_io);
    s.connect(srv.endpoint());
    asio::write(s, asio::buffer(std::string("GET /metrics HTTP/1.1\r\n\r\n")));
    boost::system::error_code ec;
    const std::string answer = read_all(s, ec);
    CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  }
}
