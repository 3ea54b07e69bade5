// Parser and writer of raw HTTP/1.1 request text for `ctsqs sign` and the SigV4 suite.
#include "ctsqs/aws/sigv4/request_text.hpp"

#include "ctsqs/aws/sigv4/canonical_request.hpp"

namespace ctsqs::sigv4 {
namespace {

constexpr std::size_t max_request_bytes = 64 * 1024 * 1024;

bool is_token_char(char c) noexcept {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// HTTP field values may hold tabs and visible bytes (obs-text included), not other controls.
bool has_control(std::string_view v) noexcept {
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

error_code fail(Diagnostics& diag, std::size_t line, std::string what) {
  diag.message = "request text line " + std::to_string(line) + ": " + std::move(what);
  return client_errc::invalid_argument;
}

}  // namespace

result<HttpRequest> parse_request_text(std::string_view text, Diagnostics& diag) {
  if (text.size() > max_request_bytes) {
    diag.message = "request text is larger than 64 MiB";
    return client_errc::limit_exceeded;
  }
  HttpRequest req;
  req.headers.clear();
  std::size_t pos = 0, line_no = 0;
  auto next_line = [&](std::string_view& line) -> bool {
    if (pos >= text.size()) return false;
    std::size_t end = text.find('\n', pos);
    std::size_t stop = end == std::string_view::npos ? text.size() : end;
    line = text.substr(pos, stop - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++line_no;
    return true;
  };

  std::string_view line;
  if (!next_line(line)) return fail(diag, 1, "empty request; expected 'METHOD TARGET HTTP/1.1'");
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1)
    return fail(diag, line_no, "request line must be 'METHOD TARGET HTTP/1.1'");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty()) return fail(diag, line_no, "request line has an empty method");
  for (char c : method)
    if (!is_token_char(c)) return fail(diag, line_no, "request method has an invalid character");
  if (!version.starts_with("HTTP/"))
    return fail(diag, line_no, "request line must end with the HTTP version, e.g. HTTP/1.1");
  if (target.empty()) return fail(diag, line_no, "request line has an empty target");
  if (has_control(target)) return fail(diag, line_no, "request target has a control character");
  if (target.front() != '/')
    return fail(diag, line_no, "request target must start with '/' (origin form, e.g. /path?query)");
  req.method = std::string(method);
  std::size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  req.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));

  bool ended = false;
  while (next_line(line)) {
    if (line.empty()) {
      ended = true;
      break;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (req.headers.empty())
        return fail(diag, line_no, "continuation line before any header");
      if (has_control(line)) return fail(diag, line_no, "header value has a control character");
      // obs-fold (RFC 7230 §3.2.4): the line continues the previous value, joined by one space
      // (not a second header, which signing would join with a comma).
      std::string& value = req.headers.back().value;
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
      value += ' ';
      value += canonical_header_value(line);
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return fail(diag, line_no, "header line has no ':' (expected 'Name:value')");
    std::string_view name = line.substr(0, colon);
    if (name.empty()) return fail(diag, line_no, "header name is empty");
    for (char c : name)
      if (!is_token_char(c))
        return fail(diag, line_no, "header name '" + std::string(name) + "' has an invalid character");
    std::string_view value = line.substr(colon + 1);
    if (has_control(value)) return fail(diag, line_no, "header value has a control character");
    req.headers.push_back({std::string(name), std::string(value)});
  }
  if (ended) req.body = std::string(text.substr(pos));
  if (const HttpHeader* h = req.find_header("host")) req.host = canonical_header_value(h->value);
  return req;
}

std::string to_request_text(const HttpRequest& req) {
  std::string out;
  out.append(req.method).append(" ").append(req.path);
  if (!req.query.empty()) out.append("?").append(req.query);
  out.append(" HTTP/1.1\n");
  for (const auto& h : req.headers) out.append(h.name).append(":").append(h.value).append("\n");
  out.append("\n");
  out.append(req.body);
  return out;
}

}  // namespace ctsqs::sigv4
