// DevoSinkOptions: where and how the Devo sink sends syslog lines (TLS with client certificate,
// or plain TCP to a relay), plus the pure helpers around them (validation, region endpoints,
// `devo://HOST:PORT` parsing, reconnect backoff).
#pragma once

#include "ctsqs/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs {

/// Devo output settings (`outputs.devo` in the collector file, `--output devo://HOST:PORT`).
struct DevoSinkOptions {
  std::string address;      ///< explicit host; empty = the regional endpoint of `region`
  std::string region;       ///< Devo region: "us", "eu", "ca", "apac" (when no address)
  std::uint16_t port = 443; ///< 443 for the collector endpoints; a relay usually listens elsewhere
  bool tls = true;          ///< false for a relay over plain TCP
  std::string cert_file;    ///< client certificate (PEM) of the Devo domain
  std::string key_file;     ///< its private key (PEM)
  std::string chain_file;   ///< CA chain to verify the server; empty = system store
  /// Name checked against the server certificate and sent as SNI; empty = the host connected to.
  std::string server_name;
  /// Verify the server certificate (chain and name). Only turn off for a test receiver.
  bool verify_server = true;
  std::string hostname;     ///< syslog HOSTNAME; empty = this machine's name
  int priority = 14;        ///< syslog PRI (user.info)
  std::size_t buffer_bytes = 8u << 20;  ///< bounded in-memory buffer; writes block when full
  /// Lines are handed to the socket in batches this big (at most half of `buffer_bytes`).
  std::size_t batch_bytes = 64u << 10;
  std::chrono::milliseconds connect_timeout{10000};  ///< TCP connect + TLS handshake, per try
  /// How long `flush` waits for everything written to be delivered before it fails.
  std::chrono::milliseconds flush_timeout{60000};
  std::chrono::seconds reconnect_every{0};  ///< recycle the connection this often; 0 = never
  std::chrono::milliseconds backoff_initial{200};  ///< first reconnect delay (before jitter)
  std::chrono::milliseconds backoff_max{30000};    ///< reconnect delays never exceed this
  /// TLS 1.3 only: how long to wait after the handshake for the server to accept the client
  /// certificate (TLS 1.3 servers reject it after the client considers the handshake done).
  std::chrono::milliseconds accept_wait{1000};
  /// Where warnings about the settings go when the sink is created (server verification turned
  /// off); unset: stderr.
  std::function<void(std::string_view line)> log;
};

/// Check the options: a destination (address or known region), port, certificate and key both
/// present with TLS, sizes and durations in range. The error message names the field.
result<void> validate(const DevoSinkOptions& options, Diagnostics& diag);

/// The Devo collector host of a region ("us" -> "collector-us.devo.io"; "us", "eu", "ca",
/// "apac"/"ap"), or nullopt for an unknown region. Case-insensitive.
std::optional<std::string> devo_region_host(std::string_view region);

/// The host the sink connects to: `address` when set, else the region's collector host.
/// Fails (naming `region`) when neither gives a host.
result<std::string> devo_endpoint_host(const DevoSinkOptions& options, Diagnostics& diag);

/// Parse `devo://HOST[:PORT]` (IPv6 as `[::1]`) into `address` and `port` of `options`,
/// leaving the other fields as they are. PORT defaults to 443.
result<void> parse_devo_url(std::string_view url, DevoSinkOptions& options, Diagnostics& diag);

/// Reconnect delay before try number `attempt` (0 = first retry): exponential from `initial`,
/// doubling, capped at `max`, with "equal jitter": half the delay is fixed, the other half is
/// scaled by `unit_random` in [0, 1) (pass a random number; pure so it can be tested).
std::chrono::milliseconds devo_backoff_delay(unsigned attempt, std::chrono::milliseconds initial,
                                             std::chrono::milliseconds max, double unit_random);

}  // namespace ctsqs
