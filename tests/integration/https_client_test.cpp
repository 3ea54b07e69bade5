// HttpsClient on loopback against real servers: TLS verification with an `openssl s_server`
// (self-signed certificate refused by default, accepted with the CA bundle, host name checked),
// streamed bodies from a python http.server, size limits, read timeouts, and proxies (CONNECT
// tunnel and absolute-form) through tests/integration/connect_proxy.py.
#include "ctsqs/transport/https_client.hpp"

#include "ctsqs/aws/retry.hpp"

#include "catch.hpp"
#include "background_process.hpp"
#include "peers.hpp"
#include "unit/catch_result.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

using namespace ctsqs;
using namespace ctsqs::transport;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ctsqs::test::Background;
using ctsqs::test::free_port;
using ctsqs::test::TempDir;
using ctsqs::test::wait_for_port;

namespace {

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

/// A self-signed certificate (its own CA) for the given subjectAltName.
void make_cert(const fs::path& dir, const std::string& name, const std::string& san) {
  const std::string key = (dir / (name + ".key")).string(), pem = (dir / (name + ".pem")).string();
  REQUIRE(sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + key + "' -out '" + pem +
             "' -days 2 -subj '/CN=ctsqs test' -addext 'subjectAltName=" + san + "' >/dev/null 2>&1") == 0);
}

struct Exchange {
  result<HttpResponse> response = make_error_code(client_errc::cancelled);
  Diagnostics diag;
};

Exchange get(HttpsClient& client, asio::io_context& io, std::string scheme, std::string host,
             std::string path = "/", ExchangeOptions opts = {}) {
  HttpRequest req;
  req.scheme = std::move(scheme);
  req.host = std::move(host);
  req.path = std::move(path);
  Exchange ex;
  asio::co_spawn(io, client.async_exchange(req, opts, ex.diag),
                 [&ex](std::exception_ptr e, result<HttpResponse> r) {
                   if (e) std::rethrow_exception(e);
                   ex.response = std::move(r);
                 });
  io.restart();
  io.run();
  return ex;
}

std::string host_of(unsigned short port) { return "127.0.0.1:" + std::to_string(port); }

/// `size` pseudo-random bytes of `seed`.
std::string random_blob(std::size_t size, unsigned seed) {
  std::string blob(size, '\0');
  std::mt19937 rng(seed);
  for (auto& c : blob) c = static_cast<char>(rng());
  return blob;
}

/// One streamed exchange run to its end, each chunk of the body handed to `on_body`.
result<HttpResponse> stream_body(HttpsClient& client, asio::io_context& io, const HttpRequest& req,
                                 BodyChunkHandler& on_body, Diagnostics& diag, ExchangeOptions opts = {}) {
  result<HttpResponse> r = make_error_code(client_errc::cancelled);
  asio::co_spawn(io, client.async_exchange_streaming(req, opts, on_body, diag),
                 [&r](std::exception_ptr e, result<HttpResponse> v) {
                   if (e) std::rethrow_exception(e);
                   r = std::move(v);
                 });
  io.restart();
  io.run();
  return r;
}

}  // namespace

TEST_CASE("TLS: a self-signed server is refused by default and accepted with the CA bundle", "[integration][tls]") {
  TempDir tmp;
  make_cert(tmp.path, "good", "DNS:localhost,IP:127.0.0.1");
  const auto port = free_port();
  Background server({"openssl", "s_server", "-accept", host_of(port), "-cert", (tmp.path / "good.pem").string(),
                     "-key", (tmp.path / "good.key").string(), "-www", "-quiet"},
                    tmp.path / "s_server.log");
  wait_for_port(port);
  asio::io_context io;
  {
    HttpsClient client(io.get_executor());  // system trust store only
    auto ex = get(client, io, "https", host_of(port));
    REQUIRE(ex.response.has_error());
    INFO(ex.diag.message);
    CHECK(ex.diag.message.find("TLS handshake with 127.0.0.1") != std::string::npos);
    CHECK(ex.diag.message.find("self-signed certificate") != std::string::npos);
    CHECK_FALSE(is_retryable(ex.response.error()));
  }
  {
    HttpsClientConfig cfg;
    cfg.ca_bundle = (tmp.path / "good.pem").string();
    HttpsClient client = require_create<HttpsClient>(io.get_executor(), cfg);
    auto ex = get(client, io, "https", host_of(port));
    INFO(ex.diag.message);
    REQUIRE(ex.response);
    CHECK(ex.response->status == 200);
    auto named = get(client, io, "https", "localhost:" + std::to_string(port));  // SNI + DNS name
    INFO(named.diag.message);
    REQUIRE(named.response);
    CHECK(named.response->status == 200);
  }
  {
    HttpsClientConfig cfg;
    cfg.verify_tls = false;  // the explicit opt-out still connects
    HttpsClient client = require_create<HttpsClient>(io.get_executor(), cfg);
    auto ex = get(client, io, "https", host_of(port));
    REQUIRE(ex.response);
  }
}

TEST_CASE("TLS: a trusted certificate for another host name is refused", "[integration][tls]") {
  TempDir tmp;
  make_cert(tmp.path, "other", "DNS:other.example");
  const auto port = free_port();
  Background server({"openssl", "s_server", "-accept", host_of(port), "-cert", (tmp.path / "other.pem").string(),
                     "-key", (tmp.path / "other.key").string(), "-www", "-quiet"},
                    tmp.path / "s_server.log");
  wait_for_port(port);
  asio::io_context io;
  HttpsClientConfig cfg;
  cfg.ca_bundle = (tmp.path / "other.pem").string();
  HttpsClient client = require_create<HttpsClient>(io.get_executor(), cfg);
  auto ip = get(client, io, "https", host_of(port));
  REQUIRE(ip.response.has_error());
  CHECK(ip.diag.message.find("IP address mismatch") != std::string::npos);
  auto name = get(client, io, "https", "localhost:" + std::to_string(port));
  REQUIRE(name.response.has_error());
  CHECK(name.diag.message.find("hostname mismatch") != std::string::npos);
}

TEST_CASE("TLS: an unreadable CA bundle is a configuration error naming the file", "[integration][tls]") {
  asio::io_context io;
  HttpsClientConfig cfg;
  cfg.ca_bundle = "/nonexistent/ca.pem";
  Diagnostics diag;
  auto client = HttpsClient::create(io.get_executor(), cfg, diag);
  REQUIRE(client.has_error());
  CHECK(client.error() == client_errc::invalid_argument);
  CHECK(diag.message.find("CA bundle '/nonexistent/ca.pem' could not be loaded") != std::string::npos);
}

TEST_CASE("TLS: a CA bundle is checked at create and parsed at the first TLS connection", "[integration][tls]") {
  TempDir tmp;
  asio::io_context io;
  {
    std::ofstream(tmp.path / "notes.txt") << "not a certificate\n";
    HttpsClientConfig cfg;
    cfg.ca_bundle = (tmp.path / "notes.txt").string();
    Diagnostics diag;
    auto client = HttpsClient::create(io.get_executor(), cfg, diag);
    REQUIRE(client.has_error());
    CHECK(client.error() == client_errc::invalid_argument);
    CHECK(diag.message == "CA bundle '" + cfg.ca_bundle + "' could not be loaded: no PEM certificate in it");
    cfg.ca_bundle = tmp.path.string();  // a directory: refused, not thrown
    Diagnostics dir_diag;
    auto dir_client = HttpsClient::create(io.get_executor(), cfg, dir_diag);
    REQUIRE(dir_client.has_error());
    CHECK(dir_diag.message == "CA bundle '" + cfg.ca_bundle + "' could not be loaded: not a regular file");
  }
  // A bundle that looks like PEM but does not parse: plain http works (nothing parses it), the
  // first TLS connection fails naming the bundle, and it is not retried.
  std::ofstream(tmp.path / "broken.pem") << "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
  std::ofstream(tmp.path / "index.html") << "hello";
  const auto http_port = free_port();
  Background web({"python3", "-m", "http.server", std::to_string(http_port), "--bind", "127.0.0.1", "--directory",
                  tmp.path.string()},
                 tmp.path / "web.log");
  wait_for_port(http_port);
  make_cert(tmp.path, "good", "DNS:localhost,IP:127.0.0.1");
  const auto tls_port = free_port();
  Background tls({"openssl", "s_server", "-accept", host_of(tls_port), "-cert", (tmp.path / "good.pem").string(),
                  "-key", (tmp.path / "good.key").string(), "-www", "-quiet"},
                 tmp.path / "s_server.log");
  wait_for_port(tls_port);
  HttpsClientConfig cfg;
  cfg.ca_bundle = (tmp.path / "broken.pem").string();
  HttpsClient client = require_create<HttpsClient>(io.get_executor(), cfg);
  auto plain = get(client, io, "http", host_of(http_port));
  INFO(plain.diag.message);
  REQUIRE(plain.response);
  CHECK(plain.response->status == 200);
  auto secure = get(client, io, "https", host_of(tls_port));
  REQUIRE(secure.response.has_error());
  CHECK(secure.response.error() == transport_errc::tls_setup_failed);
  CHECK_FALSE(is_retryable(secure.response.error()));
  CHECK(secure.diag.message.find("CA bundle '" + cfg.ca_bundle + "' could not be loaded") != std::string::npos);
}

TEST_CASE("streamed bodies arrive in bounded chunks, buffered ones obey the size limit", "[integration][http]") {
  TempDir tmp;
  const std::string blob = random_blob(3 * 1024 * 1024 + 123, 7);
  std::ofstream(tmp.path / "blob.bin", std::ios::binary) << blob;
  const auto port = free_port();
  Background server({"python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1", "--directory",
                     tmp.path.string()},
                    tmp.path / "http.log");
  wait_for_port(port);
  asio::io_context io;
  HttpsClientConfig cfg;
  cfg.stream_chunk_bytes = 64 * 1024;
  cfg.max_body_bytes = 1024 * 1024;
  HttpsClient client = require_create<HttpsClient>(io.get_executor(), cfg);

  std::string received;
  std::size_t chunks = 0, largest = 0;
  BodyChunkHandler on_body = [&](std::span<const std::byte> chunk) -> asio::awaitable<result<void>> {
    ++chunks;
    largest = std::max(largest, chunk.size());
    received.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    co_return result<void>{};
  };
  HttpRequest req;
  req.scheme = "http";
  req.host = host_of(port);
  req.path = "/blob.bin";
  Diagnostics diag;
  result<HttpResponse> r = stream_body(client, io, req, on_body, diag);
  INFO(diag.message);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.empty());
  CHECK(received == blob);
  CHECK(largest <= 64 * 1024);
  CHECK(chunks >= blob.size() / (64 * 1024));

  // A handler error stops the transfer and is returned.
  int calls = 0;
  BodyChunkHandler refuse = [&](std::span<const std::byte>) -> asio::awaitable<result<void>> {
    ++calls;
    co_return make_error_code(client_errc::sink_failed);
  };
  r = stream_body(client, io, req, refuse, diag);
  REQUIRE(r.has_error());
  CHECK(r.error() == client_errc::sink_failed);
  CHECK(calls == 1);

  // Non-2xx bodies are buffered for error parsing, never streamed.
  auto missing = get(client, io, "http", host_of(port), "/missing");
  REQUIRE(missing.response);
  CHECK(missing.response->status == 404);

  // The buffered exchange refuses a body over max_body_bytes.
  auto big = get(client, io, "http", host_of(port), "/blob.bin");
  REQUIRE(big.response.has_error());
  CHECK(big.response.error() == client_errc::limit_exceeded);
  CHECK(big.diag.message.find("larger than 1048576 bytes") != std::string::npos);
  CHECK_FALSE(is_retryable(big.response.error()));
}

TEST_CASE("streamed bodies of known length, plain and TLS: chunks, keep-alive, a body cut short", "[integration][http]") {
  // A body with a Content-Length is read from the socket straight into the chunk buffer (not
  // through the parser): every byte, in full chunks, the connection reused after it; a body cut
  // short is a retryable partial message. Chunked bodies take the parser's path.
  TempDir tmp;
  const std::string blob = random_blob(2 * 1024 * 1024 + 4321, 11);
  std::ofstream(tmp.path / "blob.bin", std::ios::binary) << blob;
  make_cert(tmp.path, "good", "DNS:localhost,IP:127.0.0.1");
  const std::string script = std::string(CTSQS_SOURCE_DIR) + "/tests/integration/body_server.py";
  // Each server is listening before the next port is picked: a port picked while the first
  // server is still starting could be the same one.
  const auto plain_port = free_port();
  Background plain({"python3", script, std::to_string(plain_port), (tmp.path / "blob.bin").string()},
                   tmp.path / "plain.log");
  wait_for_port(plain_port);
  const auto tls_port = free_port();
  Background tls({"python3", script, std::to_string(tls_port), (tmp.path / "blob.bin").string(),
                  (tmp.path / "good.pem").string(), (tmp.path / "good.key").string()},
                 tmp.path / "tls.log");
  wait_for_port(tls_port);
  asio::io_context io;
  HttpsClientConfig cfg;
  cfg.ca_bundle = (tmp.path / "good.pem").string();
  cfg.stream_chunk_bytes = 100 * 1024;
  HttpsClient client = require_create<HttpsClient>(io.get_executor(), cfg);

  struct Streamed {
    result<HttpResponse> response = make_error_code(client_errc::cancelled);
    Diagnostics diag;
    std::string body;
    std::vector<std::size_t> chunks;
  };
  auto stream = [&](const std::string& scheme, unsigned short port, const std::string& path,
                    ExchangeOptions opts = {}) {
    Streamed s;
    BodyChunkHandler on_body = [&s](std::span<const std::byte> chunk) -> asio::awaitable<result<void>> {
      s.chunks.push_back(chunk.size());
      s.body.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      co_return result<void>{};
    };
    HttpRequest req;
    req.scheme = scheme;
    req.host = host_of(port);
    req.path = path;
    s.response = stream_body(client, io, req, on_body, s.diag, opts);
    return s;
  };
  for (const auto& [scheme, port] : std::vector<std::pair<std::string, unsigned short>>{{"http", plain_port},
                                                                                        {"https", tls_port}}) {
    INFO(scheme);
    for (int round = 1; round <= 2; ++round) {
      Streamed s = stream(scheme, port, "/whole");
      INFO(s.diag.message);
      REQUIRE(s.response);
      CHECK(s.response->status == 200);
      CHECK(s.body == blob);
      // Full chunks but the last.
      REQUIRE(s.chunks.size() == blob.size() / (100 * 1024) + 1);
      for (std::size_t i = 0; i + 1 < s.chunks.size(); ++i) CHECK(s.chunks[i] == 100 * 1024);
      // The second request went over the first one's connection: the body was read exactly.
      CHECK(s.response->header("X-Request-On-Connection") == std::to_string(round));
    }
    Streamed chunked = stream(scheme, port, "/chunked");
    INFO(chunked.diag.message);
    REQUIRE(chunked.response);
    CHECK(chunked.body == blob);
    Streamed cut = stream(scheme, port, "/cut");
    REQUIRE(cut.response.has_error());
    CHECK(cut.response.error() == boost::beast::http::error::partial_message);
    CHECK(is_retryable(cut.response.error()));
    CHECK(cut.diag.message.find("reading the response body") != std::string::npos);
    CHECK(cut.body == blob.substr(0, cut.body.size()));
    CHECK(cut.body.size() <= blob.size() / 2);
    // A body that stops arriving times out within the read timeout, retryably.
    ExchangeOptions quick;
    quick.read_timeout = 1s;
    const auto started = std::chrono::steady_clock::now();
    Streamed stalled = stream(scheme, port, "/stall", quick);
    REQUIRE(stalled.response.has_error());
    CHECK(is_retryable(stalled.response.error()));
    CHECK(std::chrono::steady_clock::now() - started < 10s);
    CHECK(stalled.diag.message.find("reading the response body") != std::string::npos);
  }
}

TEST_CASE("a server that never answers times out within the read timeout, retryably", "[integration][http]") {
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});  // listens, never accepts
  const auto port = silent.local_endpoint().port();
  HttpsClient client(io.get_executor());
  ExchangeOptions opts;
  opts.read_timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  auto ex = get(client, io, "http", host_of(port), "/", opts);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(ex.response.has_error());
  CHECK(is_retryable(ex.response.error()));
  CHECK(ex.diag.message.find("timed out") != std::string::npos);
  CHECK(took < 5s);

  // Connection refused is reported with the host and is retryable.
  const auto closed = free_port();
  auto refused = get(client, io, "http", host_of(closed));
  REQUIRE(refused.response.has_error());
  CHECK(is_retryable(refused.response.error()));
  CHECK(refused.diag.message.find("connecting to 127.0.0.1:" + std::to_string(closed)) != std::string::npos);
}

TEST_CASE("allow_address: every address the host resolves to is checked before connecting", "[integration][http]") {
  asio::io_context io;
  asio::ip::tcp::acceptor server(io, {asio::ip::make_address("127.0.0.1"), 0});  // listens, never answers
  server.non_blocking(true);
  const std::string host = "localhost:" + std::to_string(server.local_endpoint().port());
  HttpsClient client(io.get_executor());
  ExchangeOptions opts;
  opts.read_timeout = 200ms;
  opts.allow_address = [](const asio::ip::address& a) { return !a.is_loopback(); };
  auto refused = get(client, io, "http", host, "/", opts);
  REQUIRE(refused.response.has_error());
  CHECK(refused.response.error() == transport_errc::address_not_allowed);
  CHECK_FALSE(is_retryable(refused.response.error()));
  CHECK(refused.diag.message.find(host + " resolves to ") == 0);
  boost::system::error_code ec;
  server.accept(ec);
  CHECK(ec == asio::error::would_block);  // no connection was made

  // A check that passes: connected (then the silent server times the exchange out).
  opts.allow_address = [](const asio::ip::address& a) { return a.is_loopback(); };
  auto allowed = get(client, io, "http", host, "/", opts);
  REQUIRE(allowed.response.has_error());
  CHECK(allowed.response.error() != transport_errc::address_not_allowed);
  server.accept(ec);
  CHECK_FALSE(ec);
}

TEST_CASE("proxies: CONNECT tunnel for https, absolute-form for http, NO_PROXY, 407", "[integration][proxy]") {
  TempDir tmp;
  make_cert(tmp.path, "good", "DNS:localhost,IP:127.0.0.1");
  const auto tls_port = free_port();
  Background tls({"openssl", "s_server", "-accept", host_of(tls_port), "-cert", (tmp.path / "good.pem").string(),
                  "-key", (tmp.path / "good.key").string(), "-www", "-quiet"},
                 tmp.path / "s_server.log");
  std::ofstream(tmp.path / "hello.txt") << "hello through the proxy";
  const auto http_port = free_port();
  Background web({"python3", "-m", "http.server", std::to_string(http_port), "--bind", "127.0.0.1", "--directory",
                  tmp.path.string()},
                 tmp.path / "http.log");
  const auto proxy_port = free_port();
  const auto proxy_log = tmp.path / "proxy.log";
  const std::string script = std::string(CTSQS_SOURCE_DIR) + "/tests/integration/connect_proxy.py";
  Background proxy({"python3", script, std::to_string(proxy_port), proxy_log.string(), "Basic dTpwYXNzd29yZA=="},
                   tmp.path / "proxy.out");
  wait_for_port(tls_port);
  wait_for_port(http_port);
  wait_for_port(proxy_port);

  asio::io_context io;
  HttpsClientConfig cfg;
  cfg.ca_bundle = (tmp.path / "good.pem").string();
  cfg.proxy.https_proxy = "http://u:password@127.0.0.1:" + std::to_string(proxy_port);
  cfg.proxy.http_proxy = cfg.proxy.https_proxy;
  HttpsClient client = require_create<HttpsClient>(io.get_executor(), cfg);

  auto tunneled = get(client, io, "https", "localhost:" + std::to_string(tls_port));
  INFO(tunneled.diag.message);
  REQUIRE(tunneled.response);
  CHECK(tunneled.response->status == 200);

  auto forwarded = get(client, io, "http", host_of(http_port), "/hello.txt");
  INFO(forwarded.diag.message);
  REQUIRE(forwarded.response);
  CHECK(forwarded.response->status == 200);
  CHECK(forwarded.response->body == "hello through the proxy");

  std::string log = ctsqs::test::read_file(proxy_log);
  CHECK(log.find("CONNECT localhost:" + std::to_string(tls_port)) != std::string::npos);
  CHECK(log.find("GET http://127.0.0.1:" + std::to_string(http_port) + "/hello.txt") != std::string::npos);

  // NO_PROXY bypasses the proxy.
  HttpsClientConfig direct = cfg;
  direct.proxy.no_proxy = "127.0.0.1";
  HttpsClient bypass = require_create<HttpsClient>(io.get_executor(), direct);
  const auto lines_before = std::count(log.begin(), log.end(), '\n');
  REQUIRE(get(bypass, io, "http", host_of(http_port), "/hello.txt").response);
  log = ctsqs::test::read_file(proxy_log);
  CHECK(std::count(log.begin(), log.end(), '\n') == lines_before);

  // Wrong proxy credentials: a clear refusal, the password never in the message.
  HttpsClientConfig wrong = cfg;
  wrong.proxy.https_proxy = "http://u:WrongProxyPass@127.0.0.1:" + std::to_string(proxy_port);
  HttpsClient denied = require_create<HttpsClient>(io.get_executor(), wrong);
  auto refused = get(denied, io, "https", "localhost:" + std::to_string(tls_port));
  REQUIRE(refused.response.has_error());
  CHECK(refused.response.error() == transport_errc::proxy_refused);
  CHECK(refused.diag.message.find("HTTP 407") != std::string::npos);
  CHECK(refused.diag.message.find("WrongProxyPass") == std::string::npos);
}
