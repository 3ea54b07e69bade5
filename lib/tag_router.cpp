// TagRouter: service derivation, template expansion, service filter and per-tag counts.
#include "ctsqs/decode/tag_router.hpp"

#include <algorithm>
#include <iostream>

#include "detail/protocol_util.hpp"

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

result<void> validate(const TagRouterOptions& o, Diagnostics& diag) {
  auto bad = [&](std::string msg) -> result<void> {
    diag.message = std::move(msg);
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

TagLimits::TagLimits(std::size_t max_value_length, std::size_t max_tags)
    : log([](std::string_view line) { std::cerr << line << '\n'; }),
      max_value_length_(max_value_length),
      max_tags_(max_tags) {}

const std::shared_ptr<TagLimits>& TagLimits::process_wide() {
  static const std::shared_ptr<TagLimits> limits = std::make_shared<TagLimits>();
  return limits;
}

bool TagLimits::admit(std::string_view tag) {
  std::lock_guard lk(mu_);
  if (tags_.find(tag) != tags_.end()) return true;
  if (tags_.size() >= max_tags_.load()) return false;
  tags_.emplace(tag);
  return true;
}

void TagLimits::capped(bool too_many, std::string_view what) {
  capped_.fetch_add(1);
  auto& logged = too_many ? logged_many_ : logged_long_;
  if (logged.exchange(true) || !log) return;
  if (too_many)
    log("ctsqs: more than " + std::to_string(max_tags_.load()) + " distinct tags: " + detail::quote_start(what, 80) +
        " and later new tags go to service \"unknown\" (logged once; counted in events_retagged)");
  else
    log("ctsqs: a tag value longer than " + std::to_string(max_value_length_) + " characters (" +
        detail::quote_start(what, 64) + ") goes to \"unknown\" (logged once; counted in events_retagged)");
}

result<TagRouter> TagRouter::create(TagRouterOptions options, Diagnostics& diag) {
  if (auto v = validate(options, diag); !v) return v.error();
  return TagRouter(std::move(options), checked{});
}

TagRouter::TagRouter(TagRouterOptions options, checked) : options_(std::move(options)) {
  if (!options_.limits) options_.limits = TagLimits::process_wide();
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

void TagRouter::expand(Event& e, bool all_unknown) {
  const auto max = options_.limits->max_value_length();
  auto value = [&](std::string_view v) {
    const auto at = e.tag.size();
    if (all_unknown) v = {};
    append_sanitized(e.tag, v);
    if (e.tag.size() - at > max) {
      options_.limits->capped(false, v);
      e.tag.resize(at);
      e.tag.append("unknown");
    }
  };
  e.tag.clear();
  for (const auto& p : pieces_) {
    switch (p.part) {
      case Part::literal: e.tag.append(p.text); break;
      case Part::service: e.tag.append(all_unknown ? std::string_view("unknown") : std::string_view(service_)); break;
      case Part::account: value(e.recipient_account); break;
      case Part::region: value(e.aws_region); break;
    }
  }
}

bool TagRouter::route(Event& e) {
  service_.clear();
  append_service(service_, e);
  bool capped = false;
  if (service_.size() > options_.limits->max_value_length()) {
    options_.limits->capped(false, service_);
    service_ = "unknown";
    capped = true;
  }
  expand(e, false);
  if (!services_.empty() && !std::binary_search(services_.begin(), services_.end(), service_)) {
    ++filtered_;
    return false;
  }
  // A tag this router counted before was admitted then: only a new one asks the shared limits
  // (a lock), so that routers on several threads do not meet on every event.
  auto it = counts_.find(std::string_view(e.tag));
  if (it == counts_.end()) {
    if (!options_.limits->admit(e.tag)) {
      options_.limits->capped(true, e.tag);
      capped = true;
      service_ = "unknown";
      expand(e, false);
      if (!options_.limits->admit(e.tag)) expand(e, true);  // every value unknown: one tag in all
    }
    it = counts_.find(std::string_view(e.tag));
    if (it == counts_.end()) it = counts_.emplace(e.tag, 0).first;
  }
  if (capped) ++capped_;
  ++it->second;
  return true;
}

}  // namespace ctsqs
