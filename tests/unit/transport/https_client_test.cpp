// Unit tests of HttpsClient::create: limits and the CA bundle checked when the client is made,
// each refusal naming its field or file. No connection is opened (exchanges run against real
// servers in tests/integration/https_client_test.cpp).
#include "ctsqs/transport/https_client.hpp"

#include "../catch_result.hpp"

#include <boost/asio/io_context.hpp>

#include <string>

using namespace ctsqs;
using namespace ctsqs::transport;

namespace {

/// The message of create()'s error for `cfg` (checked to be invalid_argument); "" on success.
std::string refusal(HttpsClientConfig cfg) {
  boost::asio::io_context io;
  Diagnostics diag;
  auto c = HttpsClient::create(io.get_executor(), std::move(cfg), diag);
  if (c) return "";
  CHECK(c.error() == client_errc::invalid_argument);
  return diag.message;
}

}  // namespace

TEST_CASE("https client: create() refuses limits that cannot work, naming the field", "[https_client]") {
  HttpsClientConfig cfg;
  CHECK(refusal(cfg).empty());
  cfg.max_body_bytes = 0;
  CHECK(refusal(cfg) == "max_body_bytes: must be at least 1");
  cfg = {};
  cfg.max_header_bytes = 0;
  CHECK(refusal(cfg) == "max_header_bytes: must be 1..4294967295, got 0");
  cfg.max_header_bytes = std::size_t{1} << 33;
  CHECK(refusal(cfg) == "max_header_bytes: must be 1..4294967295, got 8589934592");
  cfg = {};
  cfg.idle_timeout = std::chrono::milliseconds(-1);
  CHECK(refusal(cfg) == "idle_timeout: must not be negative");
  cfg = {};
  cfg.idle_timeout = std::chrono::milliseconds(0);  // never reuse: allowed
  cfg.max_idle_per_host = 0;                        // no pool: allowed
  CHECK(refusal(cfg).empty());
}

TEST_CASE("https client: create() loads the CA bundle, or names the file it could not load", "[https_client]") {
  HttpsClientConfig cfg;
  cfg.ca_bundle = "/nonexistent/ca.pem";
  CHECK(refusal(cfg).starts_with("CA bundle '/nonexistent/ca.pem' could not be loaded: "));
  const std::string not_pem = std::string(CTSQS_SOURCE_DIR) + "/CMakeLists.txt";  // a file, no certificate
  cfg.ca_bundle = not_pem;
  CHECK(refusal(cfg).starts_with("CA bundle '" + not_pem + "' could not be loaded: "));
}

TEST_CASE("https client: the default client needs no create() and opens nothing", "[https_client]") {
  boost::asio::io_context io;
  HttpsClient client(io.get_executor());
  CHECK(client.connections_opened() == 0);
  HttpsClient moved = std::move(client);
  CHECK(moved.connections_opened() == 0);
}
