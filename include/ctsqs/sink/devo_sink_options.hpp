// DevoSinkOptions: where and how the Devo sink sends syslog lines (TLS with client certificate,
// or plain TCP to a relay).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ctsqs {

/// Devo output settings (`outputs.devo` in the collector file, `--output devo://HOST:PORT`).
struct DevoSinkOptions {
  std::string address;      ///< explicit host; empty = the regional endpoint of `region`
  std::string region;       ///< Devo region: "us", "eu", "ca", "apac", ... (when no address)
  std::uint16_t port = 443; ///< 443 for the collector endpoints; a relay usually listens elsewhere
  bool tls = true;          ///< false for a relay over plain TCP
  std::string cert_file;    ///< client certificate (PEM) of the Devo domain
  std::string key_file;     ///< its private key (PEM)
  std::string chain_file;   ///< CA chain to verify the server; empty = system store
  std::string hostname;     ///< syslog HOSTNAME; empty = this machine's name
  int priority = 14;        ///< syslog PRI (user.info)
  std::size_t buffer_bytes = 8u << 20;  ///< bounded in-memory buffer; writes block when full
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::seconds reconnect_every{0};  ///< recycle the connection this often; 0 = never
};

}  // namespace ctsqs
