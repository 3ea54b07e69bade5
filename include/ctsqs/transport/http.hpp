// HttpRequest / HttpResponse: the transport-neutral HTTP messages that protocol code builds and parses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// One header line; duplicates and order are kept (SigV4 cares about both).
struct HttpHeader {
  std::string name;
  std::string value;
};

/// Case-insensitive ASCII comparison of header names.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// A request as protocol code builds it (`make_<op>_request`) and the signer signs it.
/// `path` and `query` are exactly what goes on the request line (already percent-encoded).
struct HttpRequest {
  std::string method = "GET";
  std::string scheme = "https";  ///< "https" or "http" (explicit endpoints only)
  std::string host;              ///< host[:port] as in the Host header
  std::string path = "/";        ///< raw request path
  std::string query;             ///< raw query string, without '?'
  std::vector<HttpHeader> headers;
  std::string body;

  /// First header with this name (case-insensitive), or nullptr.
  const HttpHeader* find_header(std::string_view name) const noexcept {
    for (const auto& h : headers)
      if (iequals(h.name, name)) return &h;
    return nullptr;
  }
  /// Replace every header of this name with one value.
  void set_header(std::string_view name, std::string value) {
    std::erase_if(headers, [&](const HttpHeader& h) { return iequals(h.name, name); });
    headers.push_back({std::string(name), std::move(value)});
  }
  /// "https://host/path?query"
  std::string url() const { return scheme + "://" + host + path + (query.empty() ? "" : "?" + query); }
};

/// A response as the transport hands it to `parse_<op>_response`.
struct HttpResponse {
  int status = 0;
  std::vector<HttpHeader> headers;
  std::string body;

  /// Value of the first header with this name, or empty.
  std::string_view header(std::string_view name) const noexcept {
    for (const auto& h : headers)
      if (iequals(h.name, name)) return h.value;
    return {};
  }
};

}  // namespace ctsqs
