// TagRouter: service derivation, template expansion, service filter and per-tag counts.
#include "ctsqs/tag_router.hpp"

#include <algorithm>
#include <stdexcept>

namespace ctsqs {
namespace {

constexpr std::string_view suffix = ".amazonaws.com";

void append_sanitized(std::string& out, std::string_view v) {
  if (v.empty()) {
    out.append("unknown");
    return;
  }
  for (char ch : v) {
    char c = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    out.push_back(ok ? c : '_');
  }
}

bool iequals_suffix(std::string_view s, std::string_view suf) {
  if (s.size() < suf.size()) return false;
  s = s.substr(s.size() - suf.size());
  for (std::size_t i = 0; i < suf.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suf[i]) return false;
  }
  return true;
}

void append_service(std::string& out, const Event& e) {
  if (e.event_type == "AwsCloudTrailInsight") {
    out.append("insights");
    return;
  }
  std::string_view src = e.event_source;
  if (iequals_suffix(src, suffix)) src.remove_suffix(suffix.size());
  append_sanitized(out, src);
}

}  // namespace

std::string service_of(const Event& e) {
  std::string s;
  append_service(s, e);
  return s;
}

std::string normalize_service(std::string_view name) {
  if (iequals_suffix(name, suffix)) name.remove_suffix(suffix.size());
  std::string s;
  append_sanitized(s, name);
  return s;
}

result<void> validate(const TagRouterOptions& o, Diagnostics* diag) {
  auto bad = [&](std::string msg) -> result<void> {
    if (diag) diag->message = std::move(msg);
    return make_error_code(client_errc::invalid_argument);
  };
  if (o.routing_template.empty()) return bad("routing_template is empty");
  std::string_view t = o.routing_template;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '}') return bad("routing_template \"" + o.routing_template + "\": unmatched '}'");
    if (t[i] != '{') continue;
    const auto close = t.find('}', i);
    if (close == std::string_view::npos)
      return bad("routing_template \"" + o.routing_template + "\": unclosed '{'");
    const auto name = t.substr(i + 1, close - i - 1);
    if (name != "service" && name != "account" && name != "region")
      return bad("routing_template \"" + o.routing_template + "\": unknown placeholder {" +
                 std::string(name) + "} (known: {service}, {account}, {region})");
    i = close;
  }
  for (const auto& s : o.services)
    if (s.empty()) return bad("services: empty service name");
  return {};
}

TagRouter::TagRouter(TagRouterOptions options) : options_(std::move(options)) {
  Diagnostics d;
  if (!validate(options_, &d)) throw std::invalid_argument(d.message);
  std::string_view t = options_.routing_template;
  std::string lit;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '{') {
      lit.push_back(t[i]);
      continue;
    }
    const auto close = t.find('}', i);
    const auto name = t.substr(i + 1, close - i - 1);
    if (!lit.empty()) pieces_.push_back({Part::literal, std::move(lit)});
    lit.clear();
    pieces_.push_back({name == "service" ? Part::service
                       : name == "account" ? Part::account
                                           : Part::region,
                       {}});
    i = close;
  }
  if (!lit.empty()) pieces_.push_back({Part::literal, std::move(lit)});
  for (const auto& s : options_.services) services_.push_back(normalize_service(s));
  std::sort(services_.begin(), services_.end());
  services_.erase(std::unique(services_.begin(), services_.end()), services_.end());
}

bool TagRouter::route(Event& e) {
  service_.clear();
  append_service(service_, e);
  e.tag.clear();
  for (const auto& p : pieces_) {
    switch (p.part) {
      case Part::literal: e.tag.append(p.text); break;
      case Part::service: e.tag.append(service_); break;
      case Part::account: append_sanitized(e.tag, e.recipient_account); break;
      case Part::region: append_sanitized(e.tag, e.aws_region); break;
    }
  }
  if (!services_.empty() && !std::binary_search(services_.begin(), services_.end(), service_)) {
    ++filtered_;
    return false;
  }
  auto it = counts_.find(std::string_view(e.tag));
  if (it == counts_.end()) it = counts_.emplace(e.tag, 0).first;
  ++it->second;
  return true;
}

}  // namespace ctsqs
