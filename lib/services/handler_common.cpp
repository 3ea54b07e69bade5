// The built-in handlers' shared parts: see handler_common.hpp.
#include "handler_common.hpp"

#include "../detail/diag_errors.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace ctsqs::services {

TaggingPayloadDecoder::TaggingPayloadDecoder(const DecoderOptions& limits, RecordLayout layout,
                                             TagRouter router)
    : inline_options_(limits),
      objects_([&] {
        DecoderOptions o = limits;
        o.layout = layout;
        return o;
      }()),
      router_(std::move(router)) {
  inline_options_.layout = RecordLayout::records_array;
}

void TaggingPayloadDecoder::begin(std::string_view object_name) {
  if (object_name.empty() && !inline_) inline_ = std::make_unique<CloudTrailDecoder>(inline_options_);
  current_ = object_name.empty() ? inline_.get() : &objects_;
  current_->begin(object_name.empty() ? std::string_view("inline events") : object_name);
  filtered_at_begin_ = router_.filtered();
  capped_at_begin_ = router_.capped();
}

result<void> TaggingPayloadDecoder::feed(std::string_view chunk, std::vector<Event>& out, Diagnostics& diag) {
  return current_->feed(chunk, [&](Event& e) { keep(e, out); }, diag);
}

result<void> TaggingPayloadDecoder::finish(std::vector<Event>& out, Diagnostics& diag) {
  auto r = current_->finish([&](Event& e) { keep(e, out); }, diag);
  if (!r) return r.error();
  return {};
}

std::string check_routing_template(std::string_view tmpl, const std::vector<std::string_view>& allowed) {
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

namespace {

bool is_service_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

result<ServiceSettings> BuiltinHandler::parse_options(ServiceOptions& o, Diagnostics& diag) const {
  ServiceSettings s;
  s.name = std::string(name());
  s.routing_template = std::string(default_routing_template());
  s.claim = default_claim_rule();
  if (by_aws_service())
    if (auto r = parse_aws_services(o, s, diag); !r) return r.error();
  if (auto r = parse_common_options(o, s, name(), diag); !r) return r.error();
  return s;
}

result<void> BuiltinHandler::check(const ServiceSettings& s, std::string_view path, Diagnostics& diag) const {
  auto p = std::string(path);
  auto bad = [&](std::string message) -> result<void> { return detail::invalid_argument(diag, std::move(message)); };
  // A finding has accountId and region (the {account} and {region} of the template), no service.
  const auto placeholders = by_aws_service() ? std::vector<std::string_view>{"service", "account", "region"}
                                             : std::vector<std::string_view>{"account", "region"};
  if (auto m = check_routing_template(s.routing_template, placeholders); !m.empty())
    return bad(p + ".routing_template: " + m + " (got \"" + s.routing_template + "\")");
  if (!by_aws_service() && !s.aws_services.empty())
    return bad(p + ": aws_services keeps events by the AWS service they come from; the events of " +
               std::string(name()) + " (GuardDuty findings) have none");
  for (std::size_t i = 0; i < s.aws_services.size(); ++i) {
    const auto& v = s.aws_services[i];
    bool ok = !v.empty() && std::all_of(v.begin(), v.end(), is_service_char);
    if (!ok)
      return bad(p + ".aws_services[" + std::to_string(i) +
                 "]: expected an AWS service name such as \"s3\" or \"iam\" (got \"" + v + "\")");
  }
  // Whatever the TagRouter would refuse is refused here, before anything runs.
  Diagnostics d;
  if (auto r = validate(to_tag_router_options(s), d); !r) return bad(p + ": " + d.message);
  return {};
}

result<std::unique_ptr<PayloadDecoder>> BuiltinHandler::make_payload_decoder(const ServiceSettings& s,
                                                                             const DecoderOptions& limits,
                                                                             Diagnostics& diag) const {
  if (auto r = check(s, "services." + std::string(name()), diag); !r) return r.error();
  TagRouterOptions ro = to_tag_router_options(s);
  ro.limits = limits.tag_limits;
  auto router = TagRouter::create(std::move(ro), diag);
  if (!router) return router.error();
  return std::unique_ptr<PayloadDecoder>(std::make_unique<TaggingPayloadDecoder>(limits, layout(), std::move(*router)));
}

result<void> parse_common_options(ServiceOptions& o, ServiceSettings& s, std::string_view service,
                                  Diagnostics& diag) {
  auto tmpl = o.get_string("routing_template", diag);
  if (!tmpl) return tmpl.error();
  if (*tmpl) s.routing_template = **tmpl;
  auto ack = o.get_bool("ack_messages", diag);
  if (!ack) return ack.error();
  s.ack_messages = *ack;
  if (auto c = parse_claim_options(o, s.claim, diag); !c) return c.error();
  // Options of Devo's generic `custom_service`: these services' formats are decoded natively.
  const std::string why = "not used by " + std::string(service) + " (its format is decoded natively)";
  for (std::string_view k : {"file_field_definitions", "filename_filter_rules", "encoding", "file_format",
                             "record_field_mapping", "line_filter_rules", "type"})
    o.ignore(k, why);
  return {};
}

result<void> parse_aws_services(ServiceOptions& o, ServiceSettings& s, Diagnostics& diag) {
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
  return {};
}

std::string_view first_member(std::string_view head) {
  std::size_t i = head.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  auto skip_ws = [&] {
    while (i < head.size() && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) ++i;
  };
  skip_ws();
  if (i >= head.size() || head[i] != '{') return {};
  ++i;
  skip_ws();
  if (i >= head.size() || head[i] != '"') return {};
  const std::size_t start = ++i;
  while (i < head.size() && head[i] != '"') {
    if (head[i] == '\\') return {};
    ++i;
  }
  if (i >= head.size()) return {};
  return head.substr(start, i - start);
}

bool has_member(std::string_view head, std::string_view name, std::string_view value) {
  std::string needle = "\"";
  needle.append(name);
  needle += "\":\"";
  needle.append(value);
  needle += '"';
  return head.find(needle) != std::string_view::npos;
}

}  // namespace ctsqs::services
