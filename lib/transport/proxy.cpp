// Proxy selection from HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
#include "ctsqs/transport/proxy.hpp"

#include "../detail/text.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace ctsqs::transport {
namespace {

using ctsqs::detail::lower;

std::string_view trim(std::string_view s) { return ctsqs::detail::trim(s, " \t"); }

std::optional<std::string> first_set(const EnvLookup& env, std::string_view upper,
                                     std::string_view lower_name) {
  if (!env) return std::nullopt;
  for (auto name : {upper, lower_name})
    if (auto v = env(name); v && !v->empty()) return v;
  return std::nullopt;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

ProxyConfig proxy_config_from_environment(const EnvLookup& env) {
  ProxyConfig cfg;
  cfg.https_proxy = first_set(env, "HTTPS_PROXY", "https_proxy").value_or("");
  cfg.http_proxy = first_set(env, "HTTP_PROXY", "http_proxy").value_or("");
  cfg.no_proxy = first_set(env, "NO_PROXY", "no_proxy").value_or("");
  return cfg;
}

bool matches_no_proxy(std::string_view no_proxy, std::string_view host_in, std::string_view port) {
  std::string host = lower(host_in);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::size_t pos = 0;
  while (pos <= no_proxy.size()) {
    std::size_t comma = no_proxy.find_first_of(", ", pos);
    if (comma == std::string_view::npos) comma = no_proxy.size();
    std::string entry = lower(trim(no_proxy.substr(pos, comma - pos)));
    pos = comma + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    // Optional ":port" (not for bare IPv6 addresses, which contain several colons).
    std::string entry_port;
    if (std::count(entry.begin(), entry.end(), ':') == 1) {
      auto c = entry.find(':');
      entry_port = entry.substr(c + 1);
      entry.resize(c);
    } else if (entry.size() > 2 && entry.front() == '[') {
      auto close = entry.find(']');
      if (close != std::string::npos) {
        if (close + 1 < entry.size() && entry[close + 1] == ':') entry_port = entry.substr(close + 2);
        entry = entry.substr(1, close - 1);
      }
    }
    if (!entry_port.empty() && entry_port != port) continue;
    if (entry.starts_with('.')) entry.erase(0, 1);  // ":80" leaves no host at all
    if (entry.starts_with("*.")) entry.erase(0, 2);
    if (entry.empty()) continue;
    if (host == entry) return true;
    if (host.size() > entry.size() && host.ends_with(entry) &&
        host[host.size() - entry.size() - 1] == '.')
      return true;
  }
  return false;
}

result<std::optional<ProxyEndpoint>> select_proxy(const ProxyConfig& cfg, std::string_view scheme,
                                                  std::string_view host, std::string_view port,
                                                  Diagnostics& diag) {
  const bool tls = scheme == "https";
  const std::string& url = tls ? cfg.https_proxy : cfg.http_proxy;
  if (url.empty()) return std::optional<ProxyEndpoint>{};
  if (matches_no_proxy(cfg.no_proxy, host, port)) return std::optional<ProxyEndpoint>{};
  const char* var = tls ? "HTTPS_PROXY" : "HTTP_PROXY";
  // curl accepts "host:port" without a scheme; so do we.
  std::string text = url.find("://") == std::string::npos ? "http://" + url : url;
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed || parsed->host().empty()) {
    diag.message = std::string(var) + ": not a proxy URL (expected http://host:port)";
    return make_error_code(client_errc::invalid_argument);
  }
  if (lower(parsed->scheme()) != "http") {
    diag.message = std::string(var) + ": only http:// proxies are supported, got scheme '" +
                   std::string(parsed->scheme()) + "'";
    return make_error_code(client_errc::invalid_argument);
  }
  ProxyEndpoint ep;
  ep.host = std::string(parsed->host_address());
  ep.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  if (parsed->has_userinfo()) {
    std::string userinfo = parsed->user() + ":" + parsed->password();
    ep.authorization = "Basic " + base64(userinfo);
  }
  return std::optional<ProxyEndpoint>{std::move(ep)};
}

}  // namespace ctsqs::transport
