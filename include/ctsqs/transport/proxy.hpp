// Proxy selection: HTTPS_PROXY / HTTP_PROXY / NO_PROXY as curl and the AWS SDKs read them.
#pragma once

#include "ctsqs/environment.hpp"
#include "ctsqs/error.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs::transport {

/// Proxy settings. Empty strings mean "no proxy". Proxy URLs may carry credentials
/// (`http://user:pass@proxy:3128`); they are sent as Proxy-Authorization and never printed.
struct ProxyConfig {
  std::string https_proxy;  ///< proxy for https:// targets (CONNECT tunnel), e.g. "http://proxy:3128"
  std::string http_proxy;   ///< proxy for http:// targets (absolute-form request target)
  std::string no_proxy;     ///< comma-separated hosts, ".domain" suffixes, IPs, host:port, or "*"
};

/// Reads HTTPS_PROXY / https_proxy, HTTP_PROXY / http_proxy and NO_PROXY / no_proxy
/// (upper case wins when both are set; empty counts as unset).
ProxyConfig proxy_config_from_environment(const EnvLookup& env);

/// A proxy chosen for one target.
struct ProxyEndpoint {
  std::string host;           ///< proxy host (no brackets for IPv6)
  std::string port;           ///< proxy port ("80" when the URL has none)
  std::string authorization;  ///< "Basic ..." when the proxy URL has user info; a secret
};

/// True when `host` (and `port`) matches an entry of a NO_PROXY list: "*", an exact host or IP,
/// a domain (with or without a leading dot) matching itself and its subdomains, optionally
/// with ":port". Comparison ignores case.
bool matches_no_proxy(std::string_view no_proxy, std::string_view host, std::string_view port);

/// The proxy to use for `scheme://host:port`, nullopt for a direct connection, or
/// client_errc::invalid_argument (with `diag.message` naming the variable) when the proxy URL
/// cannot be parsed. Only http:// proxies are supported (as in the AWS SDKs).
result<std::optional<ProxyEndpoint>> select_proxy(const ProxyConfig& cfg, std::string_view scheme,
                                                  std::string_view host, std::string_view port,
                                                  Diagnostics& diag);

}  // namespace ctsqs::transport
