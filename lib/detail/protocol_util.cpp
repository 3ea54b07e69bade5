// Private helpers shared by the protocol modules: URL splitting, IP literal detection, safe quoting.
#include "protocol_util.hpp"
#include "text.hpp"

#include <cctype>
#include <cstdio>

namespace ctsqs::detail {

bool split_url(std::string_view url, UrlParts& out) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return false;
  const std::string scheme = lower(url.substr(0, sep));
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

std::optional<std::uint32_t> parse_char_ref(std::string_view ref) noexcept {
  if (ref.size() < 2 || ref[0] != '#') return std::nullopt;
  const bool hex = ref[1] == 'x' || ref[1] == 'X';
  const auto digits = ref.substr(hex ? 2 : 1);
  if (digits.empty()) return std::nullopt;
  std::uint32_t cp = 0;
  for (char c : digits) {
    std::uint32_t v;
    if (c >= '0' && c <= '9') v = static_cast<std::uint32_t>(c - '0');
    else if (hex && c >= 'a' && c <= 'f') v = static_cast<std::uint32_t>(c - 'a' + 10);
    else if (hex && c >= 'A' && c <= 'F') v = static_cast<std::uint32_t>(c - 'A' + 10);
    else return std::nullopt;
    cp = cp * (hex ? 16u : 10u) + v;
    if (cp > 0x10FFFF) return std::nullopt;
  }
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return cp;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace ctsqs::detail
