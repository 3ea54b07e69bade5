// Validation, region endpoints, devo:// URL parsing and backoff for the Devo sink options.
#include "ctsqs/sink/devo_sink_options.hpp"

#include "../detail/text.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

namespace ctsqs {
namespace {

result<void> fail(Diagnostics& diag, std::string message) {
  diag.clear();
  diag.message = std::move(message);
  return client_errc::invalid_argument;
}

using detail::lower;

}  // namespace

std::optional<std::string> devo_region_host(std::string_view region) {
  // Devo's published sender endpoints (all on port 443).
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> table{{
      {"us", "collector-us.devo.io"},
      {"eu", "collector-eu.devo.io"},
      {"ca", "collector-ca.devo.io"},
      {"apac", "collector-ap.devo.io"},
      {"ap", "collector-ap.devo.io"},
  }};
  const std::string key = lower(region);
  for (const auto& [name, host] : table) {
    if (name == key) return std::string(host);
  }
  return std::nullopt;
}

result<std::string> devo_endpoint_host(const DevoSinkOptions& o, Diagnostics& diag) {
  if (!o.address.empty()) return o.address;
  if (o.region.empty()) {
    auto r = fail(diag, "devo: set an address or a region (us, eu, ca, apac)");
    return r.error();
  }
  if (auto host = devo_region_host(o.region)) return *host;
  auto r = fail(diag, "devo: unknown region '" + o.region + "' (known: us, eu, ca, apac)");
  return r.error();
}

result<void> validate(const DevoSinkOptions& o, Diagnostics& diag) {
  if (auto host = devo_endpoint_host(o, diag); !host) return host.error();
  if (o.port == 0) return fail(diag, "devo: port must be 1..65535");
  if (o.tls) {
    if (o.cert_file.empty()) return fail(diag, "devo: cert_file is required with TLS");
    if (o.key_file.empty()) return fail(diag, "devo: key_file is required with TLS");
  }
  if (o.priority < 0 || o.priority > 191)
    return fail(diag, "devo: priority must be 0..191 (facility*8 + severity), got " +
                          std::to_string(o.priority));
  if (o.hostname.find_first_of(" \t\r\n") != std::string::npos)
    return fail(diag, "devo: hostname must not contain spaces, got '" + o.hostname + "'");
  if (o.batch_bytes == 0) return fail(diag, "devo: batch_bytes must be positive");
  if (o.buffer_bytes < 4096)
    return fail(diag, "devo: buffer_bytes must be at least 4096, got " +
                          std::to_string(o.buffer_bytes));
  if (o.connect_timeout.count() <= 0) return fail(diag, "devo: connect_timeout must be positive");
  if (o.flush_timeout.count() <= 0) return fail(diag, "devo: flush_timeout must be positive");
  if (o.reconnect_every.count() < 0) return fail(diag, "devo: reconnect_every must not be negative");
  if (o.backoff_initial.count() <= 0) return fail(diag, "devo: backoff_initial must be positive");
  if (o.backoff_max < o.backoff_initial)
    return fail(diag, "devo: backoff_max must be at least backoff_initial");
  if (o.accept_wait.count() < 0) return fail(diag, "devo: accept_wait must not be negative");
  diag.clear();
  return {};
}

result<void> parse_devo_url(std::string_view url, DevoSinkOptions& options, Diagnostics& diag) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return fail(diag, "devo: '" + std::string(url) + "' is not a URL (devo://HOST:PORT)");
  const auto& u = *parsed;
  if (lower(u.scheme()) != "devo")
    return fail(diag, "devo: '" + std::string(url) + "' must start with devo://");
  if (!u.has_authority() || u.encoded_host().empty())
    return fail(diag, "devo: '" + std::string(url) + "' has no host (devo://HOST:PORT)");
  if (u.has_userinfo() || (!u.encoded_path().empty() && u.encoded_path() != "/") || u.has_query() ||
      u.has_fragment())
    return fail(diag, "devo: '" + std::string(url) + "' must be only devo://HOST:PORT");
  std::uint16_t port = 443;
  if (u.has_port()) {
    const std::string_view p = u.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || value == 0 || value > 65535)
      return fail(diag, "devo: '" + std::string(url) + "' has an invalid port");
    port = static_cast<std::uint16_t>(value);
  }
  // host_name() for names, the bare address for IPv4/IPv6 literals ([::1] -> ::1).
  std::string host = u.host_type() == boost::urls::host_type::ipv6 ? std::string(u.host_address())
                                                                    : std::string(u.host());
  options.address = std::move(host);
  options.port = port;
  diag.clear();
  return {};
}

std::chrono::milliseconds devo_backoff_delay(unsigned attempt, std::chrono::milliseconds initial,
                                             std::chrono::milliseconds max, double unit_random) {
  const double cap = static_cast<double>(max.count());
  double base = static_cast<double>(initial.count()) * std::ldexp(1.0, static_cast<int>(std::min(attempt, 62u)));
  base = std::min(base, cap);
  const double r = std::clamp(unit_random, 0.0, 1.0);
  const double delay = base / 2.0 + base / 2.0 * r;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(delay, cap)));
}

}  // namespace ctsqs
