// Pure helpers of the Devo HTTP sink: regional endpoints, endpoint parsing, the stream path,
// validation, answer classification and Retry-After.
#include "ctsqs/sink/devo_http_sink_options.hpp"

#include "../detail/text.hpp"

#include <boost/url/parse.hpp>

#include <array>
#include <cctype>
#include <ctime>
#include <utility>

namespace ctsqs {

namespace {

using detail::lower;

result<void> invalid(Diagnostics& diag, std::string message) {
  diag.clear();
  diag.message = "devo_http: " + std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

bool is_unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

void append_encoded(std::string& out, std::string_view part) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char c : part) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 15];
    }
  }
}

bool is_placeholder_text(std::string_view v) {
  return v.find('<') != std::string_view::npos && v.find('>') != std::string_view::npos;
}

}  // namespace

std::optional<std::string> devo_http_region_endpoint(std::string_view region) {
  static const std::array<std::pair<std::string_view, std::string_view>, 8> known{{
      {"us", "https://http-us.devo.io"},
      {"us3", "https://http-us3.devo.io"},
      {"eu", "https://http-eu.devo.io"},
      {"ca", "https://http-ca.devo.io"},
      {"apac", "https://collector-ap.devo.io:8443"},
      {"ap", "https://collector-ap.devo.io:8443"},
      {"apac2", "https://collector-ap2.devo.io:8443"},
      {"ap2", "https://collector-ap2.devo.io:8443"},
  }};
  const std::string r = lower(region);
  for (const auto& [name, url] : known)
    if (r == name) return std::string(url);
  return std::nullopt;
}

result<std::string> devo_http_endpoint(const DevoHttpSinkOptions& o, Diagnostics& diag) {
  if (!o.endpoint.empty()) return o.endpoint;
  if (o.region.empty()) {
    diag.clear();
    diag.message = "devo_http: set endpoint or region";
    return make_error_code(client_errc::invalid_argument);
  }
  if (auto url = devo_http_region_endpoint(o.region)) return *url;
  diag.clear();
  diag.message = "devo_http: region: expected \"us\", \"us3\", \"eu\", \"ca\", \"apac\" or \"apac2\", got \"" +
                 o.region + "\"";
  return make_error_code(client_errc::invalid_argument);
}

result<DevoHttpTarget> parse_devo_http_endpoint(std::string_view url, Diagnostics& diag) {
  auto fail = [&](const std::string& why) -> result<DevoHttpTarget> {
    diag.clear();
    diag.message = "devo_http: endpoint \"" + std::string(url) + "\": " + why;
    return make_error_code(client_errc::invalid_argument);
  };
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return fail("expected https://HOST[:PORT] (" + u.error().message() + ")");
  DevoHttpTarget t;
  t.scheme = lower(u->scheme());
  if (t.scheme != "https" && t.scheme != "http") return fail("expected an https:// URL");
  if (u->has_userinfo()) {  // may hold a secret: not echoed
    diag.clear();
    diag.message = "devo_http: endpoint: user info (user:password@) is not allowed; the token goes in its own field";
    return make_error_code(client_errc::invalid_argument);
  }
  if (u->has_query() || u->has_fragment()) return fail("a query or fragment is not allowed");
  if (u->encoded_host().empty()) return fail("no host");
  if (u->has_port() && (u->port_number() == 0)) return fail("expected a port 1-65535");
  t.host = std::string(u->encoded_host_and_port());
  std::string path(u->encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  t.base_path = std::move(path);
  return t;
}

std::string devo_http_stream_path(std::string_view base_path, std::string_view domain,
                                  std::string_view token, std::string_view host,
                                  std::string_view tag) {
  std::string out(base_path);
  out += "/stream/";
  append_encoded(out, domain);
  out += "/token!";
  append_encoded(out, token);
  out += '/';
  append_encoded(out, host);
  out += '/';
  append_encoded(out, tag);
  return out;
}

result<void> validate(const DevoHttpSinkOptions& o, Diagnostics& diag) {
  if (!o.endpoint.empty() && !o.region.empty()) return invalid(diag, "set either endpoint or region, not both");
  auto url = devo_http_endpoint(o, diag);
  if (!url) return url.error();
  if (auto t = parse_devo_http_endpoint(*url, diag); !t) return t.error();
  if (o.domain.empty()) return invalid(diag, "domain: missing: the Devo domain events go to");
  if (is_placeholder_text(o.domain)) return invalid(diag, "domain: still holds a template placeholder");
  if (o.token.empty()) return invalid(diag, "token: missing: the domain's HTTP ingestion token");
  if (is_placeholder_text(o.token)) return invalid(diag, "token: still holds a template placeholder");
  for (char c : o.token)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '/')
      return invalid(diag, "token: holds a space, slash or control character (a copy-paste error?)");
  if (o.batch_bytes < 1024 || o.batch_bytes > devo_http_max_request_bytes)
    return invalid(diag, "batch_bytes: expected 1 KiB to 32 MB (Devo's request limit)");
  if (o.buffer_bytes < o.batch_bytes) return invalid(diag, "buffer_bytes: expected at least batch_bytes");
  if (o.compression_level < 1 || o.compression_level > 12)
    return invalid(diag, "compression_level: expected 1 to 12");
  auto positive = [](std::chrono::milliseconds d) { return d > std::chrono::milliseconds(0); };
  if (!positive(o.connect_timeout)) return invalid(diag, "connect_timeout: expected a positive duration");
  if (!positive(o.request_timeout)) return invalid(diag, "request_timeout: expected a positive duration");
  if (!positive(o.flush_timeout)) return invalid(diag, "flush_timeout: expected a positive duration");
  if (!positive(o.backoff_initial)) return invalid(diag, "backoff_initial: expected a positive duration");
  if (o.backoff_max < o.backoff_initial) return invalid(diag, "backoff_max: expected at least backoff_initial");
  if (o.retry_after_max < std::chrono::milliseconds(0))
    return invalid(diag, "retry_after_max: expected a duration of 0 or more");
  return {};
}

DevoHttpAnswer classify_devo_http_status(int status) noexcept {
  if (status >= 200 && status < 300) return DevoHttpAnswer::delivered;
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) return DevoHttpAnswer::retry;
  return DevoHttpAnswer::refused;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view v,
                                                           std::chrono::system_clock::time_point now) {
  v = detail::trim(v, " \t");
  if (v.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(v.front())) != 0) {
    std::uint64_t s = 0;
    for (char c : v) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
      s = s * 10 + static_cast<std::uint64_t>(c - '0');
      if (s > 10'000'000) return std::nullopt;  // over 115 days: not a delay anyone means
    }
    return std::chrono::milliseconds(s * 1000);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (exactly 29 characters).
  if (v.size() != 29 || v.substr(3, 2) != ", " || v.substr(25) != " GMT") return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t n) -> int {
    int x = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (std::isdigit(static_cast<unsigned char>(v[i])) == 0) return -1;
      x = x * 10 + (v[i] - '0');
    }
    return x;
  };
  static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const auto m = months.find(v.substr(8, 3));
  if (m == std::string_view::npos || m % 3 != 0 || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
      v[19] != ':' || v[22] != ':')
    return std::nullopt;
  std::tm tm{};
  tm.tm_mday = num(5, 2);
  tm.tm_mon = static_cast<int>(m / 3);
  tm.tm_year = num(12, 4) - 1900;
  tm.tm_hour = num(17, 2);
  tm.tm_min = num(20, 2);
  tm.tm_sec = num(23, 2);
  if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 70 || tm.tm_hour < 0 || tm.tm_hour > 23 ||
      tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
    return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(::timegm(&tm));
  if (when <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

std::string describe_devo_http_status(int status) {
  std::string s = std::to_string(status);
  switch (status) {
    case 400: return s + " Bad Request";
    case 401: return s + " Unauthorized: check domain and token";
    case 403: return s + " Forbidden: check domain and token";
    case 404: return s + " Not Found: check the endpoint (region) and domain";
    case 408: return s + " Request Timeout";
    case 413: return s + " Payload Too Large: lower batch_bytes (Devo takes at most 32 MB)";
    case 429: return s + " Too Many Requests";
    case 500: return s + " Internal Server Error";
    case 502: return s + " Bad Gateway";
    case 503: return s + " Service Unavailable";
    case 504: return s + " Gateway Timeout";
    default: return "HTTP " + s;
  }
}

}  // namespace ctsqs
