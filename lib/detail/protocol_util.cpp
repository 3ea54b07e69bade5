// Private helpers shared by the protocol modules: URL splitting, IP literal detection, safe quoting.
#include "protocol_util.hpp"

#include <cctype>
#include <cstdio>

namespace ctsqs::detail {

bool split_url(std::string_view url, UrlParts& out) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return false;
  std::string scheme(url.substr(0, sep));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return false;
  auto rest = url.substr(sep + 3);
  auto slash = rest.find_first_of("/?#");
  auto authority = rest.substr(0, slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  for (char c : authority)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  std::string_view host = authority;
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(1, close - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.empty()) return false;
  out.scheme = std::move(scheme);
  out.authority = std::string(authority);
  out.host = std::string(host);
  out.path = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash));
  return true;
}

bool is_ip_literal(std::string_view host) noexcept {
  if (host.find(':') != std::string_view::npos) return true;  // IPv6 (brackets already removed)
  int dots = 0, digits = 0;
  for (char c : host) {
    if (c == '.') {
      if (digits == 0) return false;
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 3) return false;
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}

std::string quote_start(std::string_view text, std::size_t max) {
  std::string out = "\"";
  std::size_t n = 0;
  for (char c : text) {
    if (n++ == max) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace ctsqs::detail
