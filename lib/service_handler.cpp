// ServiceHandler registry, claim rules and their options. The built-in handlers live in
// lib/services/: CloudTrail (files and through Firehose) and GuardDuty (exports and Firehose).
#include "ctsqs/decode/service_handler.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace ctsqs {

result<void> ServiceHandlerRegistry::add(std::shared_ptr<const ServiceHandler> handler,
                                         Diagnostics& diag) {
  if (!handler || handler->name().empty()) {
    diag.message = "service handler without a name";
    return make_error_code(client_errc::invalid_argument);
  }
  std::vector<std::string> keys{std::string(handler->name())};
  for (auto& a : handler->aliases()) keys.push_back(a);
  for (const auto& k : keys) {
    if (find(k)) {
      diag.message = "service name '" + k + "' of handler '" + std::string(handler->name()) +
                     "' is already registered";
      return make_error_code(client_errc::invalid_argument);
    }
  }
  for (auto& k : keys) keys_.push_back(Entry{std::move(k), handler});
  handlers_.push_back(std::move(handler));
  return {};
}

std::shared_ptr<const ServiceHandler> ServiceHandlerRegistry::find(std::string_view name) const {
  for (const auto& e : keys_) {
    if (e.key == name) return e.handler;
  }
  return nullptr;
}

std::vector<std::string> ServiceHandlerRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(handlers_.size());
  for (const auto& h : handlers_) out.emplace_back(h->name());
  return out;
}

std::string ServiceHandlerRegistry::describe_known() const {
  std::string out;
  for (const auto& h : handlers_) {
    if (!out.empty()) out += ", ";
    out += h->name();
    auto aliases = h->aliases();
    if (!aliases.empty()) {
      out += aliases.size() == 1 ? " (alias " : " (aliases ";
      for (std::size_t i = 0; i < aliases.size(); ++i) {
        if (i) out += ", ";
        out += aliases[i];
      }
      out += ")";
    }
  }
  return out.empty() ? std::string("(none)") : out;
}

const ServiceHandlerRegistry& ServiceHandlerRegistry::builtin() {
  static const ServiceHandlerRegistry registry = [] {
    ServiceHandlerRegistry r;
    Diagnostics d;
    // Built-in names are distinct by construction; a clash here is a programming error.
    for (auto h : {make_cloudtrail_service_handler(), make_cloudtrail_kinesis_service_handler(),
                   make_guard_duty_service_handler(), make_guard_duty_kinesis_service_handler()})
      if (!r.add(std::move(h), d)) std::abort();
    return r;
  }();
  return registry;
}

std::string describe(const ClaimRule& rule) {
  std::string out;
  auto list = [&out](std::string_view what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    if (!out.empty()) out += "; ";
    out += what;
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " or " : " ") + v[i];
  };
  list("key contains", rule.key_contains);
  list("key starts with", rule.key_prefixes);
  list("EventBridge source", rule.event_sources);
  if (rule.by_content) out += out.empty() ? "content" : "; else content";
  return out.empty() ? std::string("nothing (no rule, no content recognition)") : out;
}

result<void> parse_claim_options(ServiceOptions& o, ClaimRule& rule, Diagnostics& diag) {
  const std::pair<std::string_view, std::vector<std::string>*> lists[] = {
      {"claim_key_contains", &rule.key_contains},
      {"claim_key_prefixes", &rule.key_prefixes},
      {"claim_event_sources", &rule.event_sources}};
  for (auto& [key, target] : lists) {
    auto v = o.get_string_list(key, diag);
    if (!v) return v.error();
    if (!*v) continue;
    for (std::size_t i = 0; i < (*v)->size(); ++i)
      if ((**v)[i].empty()) {
        diag.message = o.path() + "." + std::string(key) + "[" + std::to_string(i) + "]: expected a non-empty string";
        return make_error_code(client_errc::invalid_argument);
      }
    *target = std::move(**v);
  }
  auto content = o.get_bool("claim_by_content", diag);
  if (!content) return content.error();
  if (*content) rule.by_content = **content;
  return {};
}

}  // namespace ctsqs
