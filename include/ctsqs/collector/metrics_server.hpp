// MetricsServer: serves the Prometheus text of the collector's metrics on a loopback address.
#pragma once

#include "ctsqs/error.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ctsqs {

/// Limits of a MetricsServer.
struct MetricsServerOptions {
  /// Connections served at once; one more is closed as soon as it is accepted.
  std::size_t max_connections = 32;
  /// A connection that has not been answered within this is closed (slow or silent clients).
  std::chrono::milliseconds client_timeout{10000};
};

/// A tiny HTTP/1.1 server answering `GET /metrics` with `render()` (Prometheus text format
/// 0.0.4) and anything else with 404. One request per connection. It has no authentication, so
/// it only listens on loopback addresses.
///
/// Runs on the given executor; `render` is called there. Stop it (or destroy it) before the
/// executor's io_context stops.
class MetricsServer {
 public:
  /// Listen on `address`: "127.0.0.1:9464", "[::1]:9464" or "localhost:9464" (port 0 picks a
  /// free one). A non-loopback or malformed address is `invalid_argument` naming it.
  static result<std::unique_ptr<MetricsServer>> start(boost::asio::any_io_executor executor,
                                                      std::string_view address,
                                                      std::function<std::string()> render, Diagnostics& diag,
                                                      MetricsServerOptions options = {});
  ~MetricsServer();

  /// The port actually bound.
  unsigned short port() const noexcept;
  /// Close the listener; connections in progress finish on their own.
  void stop();

 private:
  struct Impl;
  explicit MetricsServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace ctsqs
