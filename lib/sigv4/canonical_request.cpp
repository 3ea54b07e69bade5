// SigV4 canonical request: the encoding and canonicalization rules, written out by hand.
#include "ctsqs/aws/sigv4/canonical_request.hpp"
#include "../detail/text.hpp"

#include <algorithm>
#include <array>

namespace ctsqs::sigv4 {
namespace {

constexpr char hex_upper[] = "0123456789ABCDEF";

constexpr bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

using ctsqs::detail::hex_value;

void append_escape(std::string& out, unsigned char c) {
  out += '%';
  out += hex_upper[c >> 4];
  out += hex_upper[c & 0xf];
}

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string uri_encode(std::string_view in, bool encode_slash) {
  std::string out;
  out.reserve(in.size() + in.size() / 2);
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash))
      out += ch;
    else
      append_escape(out, c);
  }
  return out;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(pos, end - pos);
    if (seg.empty() || seg == ".") {
      // dropped: empty segments collapse, "." means "here"
    } else if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else {
      segments.push_back(seg);
    }
    pos = end + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i) out += '/';
    out += segments[i];
  }
  // "/a/.." resolves to the root; a trailing slash is kept only when something is left.
  if (!segments.empty() && !path.empty() && path.back() == '/') out += '/';
  return out;
}

std::string canonical_uri(std::string_view raw_path, bool normalize) {
  if (raw_path.empty()) return "/";
  if (normalize) return uri_encode(normalize_path(raw_path), false);
  // S3: the path is already encoded once and must not be encoded again; only bytes that can
  // not stand in a path on the wire (spaces, controls, non-ASCII, ...) are escaped.
  std::string out;
  out.reserve(raw_path.size());
  for (std::size_t i = 0; i < raw_path.size(); ++i) {
    auto c = static_cast<unsigned char>(raw_path[i]);
    if (is_unreserved(c) || c == '/') {
      out += raw_path[i];
    } else if (c == '%' && i + 2 < raw_path.size() && hex_value(raw_path[i + 1]) >= 0 &&
               hex_value(raw_path[i + 2]) >= 0) {
      out += raw_path.substr(i, 3);
      i += 2;
    } else {
      append_escape(out, c);
    }
  }
  return out;
}

std::vector<QueryParam> parse_query(std::string_view raw_query) {
  std::vector<QueryParam> params;
  std::size_t pos = 0;
  while (pos <= raw_query.size()) {
    std::size_t end = raw_query.find('&', pos);
    if (end == std::string_view::npos) end = raw_query.size();
    std::string_view part = raw_query.substr(pos, end - pos);
    if (!part.empty()) {
      std::size_t eq = part.find('=');
      if (eq == std::string_view::npos)
        params.push_back({percent_decode(part), {}});
      else
        params.push_back({percent_decode(part.substr(0, eq)), percent_decode(part.substr(eq + 1))});
    }
    pos = end + 1;
  }
  return params;
}

std::string canonical_query_string(const std::vector<QueryParam>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& p : params) {
    if (p.key == "X-Amz-Signature") continue;
    encoded.emplace_back(uri_encode(p.key, true), uri_encode(p.value, true));
  }
  // Sorting the encoded forms is byte order of the encoded strings, as AWS specifies.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

std::string canonical_query_string(std::string_view raw_query) {
  return canonical_query_string(parse_query(raw_query));
}

std::string canonical_header_value(std::string_view value) {
  std::size_t b = 0, e = value.size();
  while (b < e && is_space(value[b])) ++b;
  while (e > b && is_space(value[e - 1])) --e;
  std::string out;
  out.reserve(e - b);
  bool in_space = false;
  for (std::size_t i = b; i < e; ++i) {
    if (is_space(value[i])) {
      if (!in_space) out += ' ';
      in_space = true;
    } else {
      out += value[i];
      in_space = false;
    }
  }
  return out;
}

bool is_signable_header(std::string_view n) noexcept {
  static constexpr std::array<std::string_view, 11> never = {
      "authorization", "connection", "expect",  "keep-alive", "proxy-authorization",
      "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"};
  return std::find(never.begin(), never.end(), n) == never.end() &&
         !n.starts_with("proxy-");
}

CanonicalHeaders canonical_headers(const std::vector<HttpHeader>& headers,
                                   const std::vector<std::string>& extra_unsigned) {
  struct Entry {
    std::string name;
    std::string value;
  };
  std::vector<Entry> entries;
  for (const auto& h : headers) {
    std::string name;
    name.reserve(h.name.size());
    for (char c : h.name) name += to_lower(c);
    if (!is_signable_header(name)) continue;
    if (std::find(extra_unsigned.begin(), extra_unsigned.end(), name) != extra_unsigned.end())
      continue;
    auto it = std::find_if(entries.begin(), entries.end(), [&](const Entry& x) { return x.name == name; });
    if (it == entries.end()) {
      entries.push_back({std::move(name), canonical_header_value(h.value)});
    } else {
      it->value += ',';
      it->value += canonical_header_value(h.value);
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  CanonicalHeaders out;
  for (const auto& e : entries) {
    out.block += e.name;
    out.block += ':';
    out.block += e.value;
    out.block += '\n';
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += e.name;
  }
  return out;
}

std::string make_canonical_request(std::string_view method, std::string_view canonical_uri_,
                                   std::string_view canonical_query, const CanonicalHeaders& headers,
                                   std::string_view payload_hash) {
  std::string out;
  out.reserve(method.size() + canonical_uri_.size() + canonical_query.size() +
              headers.block.size() + headers.signed_headers.size() + payload_hash.size() + 8);
  out.append(method).append("\n");
  out.append(canonical_uri_).append("\n");
  out.append(canonical_query).append("\n");
  out.append(headers.block).append("\n");
  out.append(headers.signed_headers).append("\n");
  out.append(payload_hash);
  return out;
}

}  // namespace ctsqs::sigv4
