// ServiceHandler registry and the built-in CloudTrail handler (`aws_sqs_cloudtrail`).
#include "ctsqs/service_handler.hpp"

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
    if (!r.add(make_cloudtrail_service_handler(), d)) std::abort();
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

namespace {

/// A CloudTrail log file: `{"Records":[` (whitespace allowed between tokens).
bool looks_like_cloudtrail_log(std::string_view head) {
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < head.size() && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) ++i;
  };
  auto expect = [&](std::string_view token) {
    skip_ws();
    if (head.substr(i, token.size()) != token) return false;
    i += token.size();
    return true;
  };
  return expect("{") && expect("\"Records\"") && expect(":") && expect("[");
}

bool is_service_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/// CloudTrailDecoder + TagRouter: events come out tagged and filtered.
class CloudTrailPayloadDecoder final : public PayloadDecoder {
 public:
  CloudTrailPayloadDecoder(const ServiceSettings& s, const DecoderOptions& limits)
      : decoder_(limits), router_(to_tag_router_options(s)) {}

  void begin(std::string_view object_name) override {
    decoder_.begin(object_name);
    filtered_at_begin_ = router_.filtered();
    capped_at_begin_ = router_.capped();
  }
  result<void> feed(std::string_view chunk, std::vector<Event>& out, Diagnostics& diag) override {
    return decoder_.feed(chunk, [&](Event& e) { keep(e, out); }, &diag);
  }
  result<void> finish(std::vector<Event>& out, Diagnostics& diag) override {
    auto r = decoder_.finish([&](Event& e) { keep(e, out); }, &diag);
    if (!r) return r.error();
    return {};
  }
  std::uint64_t filtered() const noexcept override { return router_.filtered() - filtered_at_begin_; }
  std::uint64_t retagged() const noexcept override { return router_.capped() - capped_at_begin_; }
  SkipReason skipped() const noexcept override { return decoder_.summary().skipped; }

 private:
  void keep(Event& e, std::vector<Event>& out) {
    if (router_.route(e)) out.push_back(std::move(e));
  }
  CloudTrailDecoder decoder_;
  TagRouter router_;
  std::uint64_t filtered_at_begin_ = 0;
  std::uint64_t capped_at_begin_ = 0;
};

/// "" when `tmpl` is a usable routing template with only the named placeholders.
std::string check_routing_template(std::string_view tmpl,
                                   const std::vector<std::string_view>& allowed) {
  if (tmpl.empty()) return "expected a non-empty routing template";
  std::string rendered;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c == '{') {
      auto close = tmpl.find('}', i);
      if (close == std::string_view::npos) return "unclosed '{' in routing template";
      auto name = tmpl.substr(i + 1, close - i - 1);
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string msg = "unknown placeholder {" + std::string(name) + "} in routing template; known:";
        for (auto a : allowed) msg += " {" + std::string(a) + "}";
        return msg;
      }
      rendered += 'x';
      i = close;
    } else if (c == '}') {
      return "unmatched '}' in routing template";
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') {
      rendered += c;
    } else {
      return std::string("character '") + c +
             "' is not allowed in a Devo tag (letters, digits, '.', '_', '-')";
    }
  }
  if (rendered.front() == '.' || rendered.back() == '.' || rendered.find("..") != std::string::npos)
    return "a Devo tag has no empty levels (no leading, trailing or doubled '.')";
  if (std::count(rendered.begin(), rendered.end(), '.') < 1)
    return "a Devo tag has at least two levels, e.g. cloud.aws.cloudtrail.{service}";
  return {};
}

class CloudTrailHandler final : public ServiceHandler {
 public:
  std::string_view name() const override { return "aws_sqs_cloudtrail"; }
  std::vector<std::string> aliases() const override { return {"cloudtrail"}; }
  std::string_view description() const override {
    return "AWS CloudTrail log files announced through SQS, tagged cloud.aws.cloudtrail.<service>";
  }
  std::string_view default_routing_template() const override {
    return "cloud.aws.cloudtrail.{service}";
  }

  result<ServiceSettings> parse_options(ServiceOptions& o, Diagnostics& diag) const override {
    ServiceSettings s;
    s.name = std::string(name());
    s.routing_template = std::string(default_routing_template());

    auto tmpl = o.get_string("routing_template", diag);
    if (!tmpl) return tmpl.error();
    if (*tmpl) s.routing_template = **tmpl;

    // `aws_services` is the documented key; `services` (the TagRouterOptions name) also works.
    for (std::string_view key : {"aws_services", "services"}) {
      auto list = o.get_string_list(key, diag);
      if (!list) return list.error();
      if (!*list) continue;
      if (!s.aws_services.empty()) {
        diag.message = o.path() + ": set either aws_services or services, not both";
        return make_error_code(client_errc::invalid_argument);
      }
      for (std::size_t i = 0; i < (*list)->size(); ++i) {
        const auto& v = (**list)[i];
        // Check what the user wrote: normalising would quietly turn "E C2" into "e_c2".
        bool ok = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        });
        if (!ok) {
          diag.message = o.path() + "." + std::string(key) + "[" + std::to_string(i) +
                         "]: expected an AWS service name such as \"s3\" or an event source "
                         "such as \"s3.amazonaws.com\"";
          return make_error_code(client_errc::invalid_argument);
        }
        s.aws_services.push_back(normalize_service(v));
      }
    }

    auto ack = o.get_bool("ack_messages", diag);
    if (!ack) return ack.error();
    s.ack_messages = *ack;
    s.claim = default_claim_rule();
    if (auto c = parse_claim_options(o, s.claim, diag); !c) return c.error();

    // Options of Devo's generic `custom_service`: CloudTrail files are decoded natively.
    for (std::string_view k : {"file_field_definitions", "filename_filter_rules", "encoding",
                               "file_format", "record_field_mapping", "line_filter_rules",
                               "type"}) {
      o.ignore(k, "not used by aws_sqs_cloudtrail (CloudTrail log files are decoded natively)");
    }
    return s;
  }

  ClaimRule default_claim_rule() const override {
    ClaimRule r;
    r.key_contains = {"/CloudTrail/", "/CloudTrail-Insight/"};
    r.event_sources = {"aws.cloudtrail"};
    return r;
  }
  bool recognizes(std::string_view head) const override { return looks_like_cloudtrail_log(head); }

  std::string check(const ServiceSettings& s, std::string_view path) const override {
    auto p = std::string(path);
    if (auto m = check_routing_template(s.routing_template, {"service", "account", "region"});
        !m.empty())
      return p + ".routing_template: " + m + " (got \"" + s.routing_template + "\")";
    for (std::size_t i = 0; i < s.aws_services.size(); ++i) {
      const auto& v = s.aws_services[i];
      bool ok = !v.empty() && std::all_of(v.begin(), v.end(), is_service_char);
      if (!ok)
        return p + ".aws_services[" + std::to_string(i) +
               "]: expected an AWS service name such as \"s3\" or \"iam\" (got \"" + v + "\")";
    }
    // Whatever the TagRouter would refuse is refused here, before anything runs.
    Diagnostics d;
    if (auto r = validate(to_tag_router_options(s), &d); !r) return p + ": " + d.message;
    return {};
  }

  std::unique_ptr<PayloadDecoder> make_payload_decoder(const ServiceSettings& s,
                                                       const DecoderOptions& limits) const override {
    if (auto m = check(s, "services." + std::string(name())); !m.empty()) throw std::invalid_argument(m);
    return std::make_unique<CloudTrailPayloadDecoder>(s, limits);
  }
};

}  // namespace

std::shared_ptr<const ServiceHandler> make_cloudtrail_service_handler() {
  return std::make_shared<const CloudTrailHandler>();
}

}  // namespace ctsqs
