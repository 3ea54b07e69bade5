// STS request builders and response parsers (pure).
#include "ctsqs/aws/sts.hpp"

#include "ctsqs/aws/error_response.hpp"
#include "../detail/xml_reader.hpp"

#include <algorithm>
#include <cctype>

namespace ctsqs::sts {
namespace {

HttpRequest form_post(const StsTarget& t, std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.scheme = t.scheme;
  r.host = t.host;
  r.path = t.base_path.empty() ? "/" : t.base_path + "/";
  r.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  r.body = std::move(body);
  return r;
}

bool is_session_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '=' ||
         c == ',' || c == '.' || c == '@' || c == '-';
}

error_code unexpected(Diagnostics& diag, std::string what) {
  diag.message = std::move(what);
  return make_error_code(aws_errc::malformed_response);
}

int two(std::string_view s, std::size_t i) {
  if (i + 2 > s.size() || !std::isdigit(static_cast<unsigned char>(s[i])) ||
      !std::isdigit(static_cast<unsigned char>(s[i + 1])))
    return -1;
  return (s[i] - '0') * 10 + (s[i + 1] - '0');
}

}  // namespace

std::string form_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

result<void> validate(const AssumeRoleParams& p, Diagnostics& diag) {
  if (!p.role_arn.starts_with("arn:") || p.role_arn.find(":role/") == std::string::npos) {
    diag.message = "role ARN '" + p.role_arn + "' is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)";
    return make_error_code(client_errc::invalid_argument);
  }
  if (p.session_name.size() < 2 || p.session_name.size() > 64) {
    diag.message = "role session name must be 2 to 64 characters, got " + std::to_string(p.session_name.size());
    return make_error_code(client_errc::invalid_argument);
  }
  for (char c : p.session_name)
    if (!is_session_name_char(c)) {
      diag.message = "role session name '" + p.session_name + "' may only contain letters, digits and _+=,.@-";
      return make_error_code(client_errc::invalid_argument);
    }
  if (p.duration.count() < 900 || p.duration.count() > 43200) {
    diag.message = "role session duration must be 900 to 43200 seconds, got " + std::to_string(p.duration.count());
    return make_error_code(client_errc::invalid_argument);
  }
  if (!p.external_id.empty() && (p.external_id.size() < 2 || p.external_id.size() > 1224)) {
    diag.message = "external id must be 2 to 1224 characters";
    return make_error_code(client_errc::invalid_argument);
  }
  return {};
}

HttpRequest make_assume_role_request(const StsTarget& target, const AssumeRoleParams& p) {
  std::string body = "Action=AssumeRole&Version=2011-06-15&RoleArn=" + form_encode(p.role_arn) +
                     "&RoleSessionName=" + form_encode(p.session_name) +
                     "&DurationSeconds=" + std::to_string(p.duration.count());
  if (!p.external_id.empty()) body += "&ExternalId=" + form_encode(p.external_id);
  return form_post(target, std::move(body));
}

HttpRequest make_assume_role_with_web_identity_request(const StsTarget& target,
                                                       const AssumeRoleWithWebIdentityParams& p) {
  std::string body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" +
                     form_encode(p.role_arn) + "&RoleSessionName=" + form_encode(p.session_name) +
                     "&DurationSeconds=" + std::to_string(p.duration.count()) +
                     "&WebIdentityToken=" + form_encode(p.web_identity_token);
  return form_post(target, std::move(body));
}

HttpRequest make_get_caller_identity_request(const StsTarget& target) {
  return form_post(target, "Action=GetCallerIdentity&Version=2011-06-15");
}

result<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s, Diagnostics& diag) {
  // YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]
  auto unreadable = [&] {
    return unexpected(diag, "not an ISO 8601 UTC timestamp (expected e.g. 2026-01-01T00:00:00Z)");
  };
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return unreadable();
  int y1 = two(s, 0), y2 = two(s, 2), mo = two(s, 5), d = two(s, 8), h = two(s, 11), mi = two(s, 14),
      se = two(s, 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
    return unreadable();
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  std::string_view zone = s.substr(i);
  if (!(zone == "Z" || zone == "z" || zone == "+00:00" || zone == "-00:00" || zone.empty()))
    return unreadable();
  using namespace std::chrono;
  const int y = y1 * 100 + y2;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return unreadable();
  if (y < 1970) return unexpected(diag, "a date before 1970 (year " + std::to_string(y) + ")");
  // In seconds first: a 4-digit year fits, while system_clock's nanoseconds overflow after 2262.
  const sys_seconds t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(se);
  return system_clock::time_point(std::min(t, far_future));
}

result<AssumedRole> parse_assume_role_response(const HttpResponse& response, Diagnostics& diag) {
  std::string_view body = response.body;
  auto creds = detail::xml_element_inner(body, "Credentials");
  if (!creds) return unexpected(diag, "STS AssumeRole response has no <Credentials> element");
  AssumedRole out;
  auto akid = detail::xml_element_text(*creds, "AccessKeyId");
  auto secret = detail::xml_element_text(*creds, "SecretAccessKey");
  auto token = detail::xml_element_text(*creds, "SessionToken");
  auto exp = detail::xml_element_text(*creds, "Expiration");
  if (!akid || akid->empty()) return unexpected(diag, "STS AssumeRole response has no Credentials/AccessKeyId");
  if (!secret || secret->empty()) return unexpected(diag, "STS AssumeRole response has no Credentials/SecretAccessKey");
  if (!token || token->empty()) return unexpected(diag, "STS AssumeRole response has no Credentials/SessionToken");
  if (!exp) return unexpected(diag, "STS AssumeRole response has no Credentials/Expiration");
  Diagnostics when_diag;
  auto when = parse_iso8601(*exp, when_diag);
  if (!when)
    return unexpected(diag, "STS AssumeRole response has an unreadable Credentials/Expiration '" +
                                exp->substr(0, 40) + "': " + when_diag.message);
  out.credentials.access_key_id = std::move(*akid);
  out.credentials.secret_access_key = std::move(*secret);
  out.credentials.session_token = std::move(*token);
  out.credentials.expiration = *when;
  if (auto user = detail::xml_element_inner(body, "AssumedRoleUser")) {
    out.assumed_role_arn = detail::xml_element_text(*user, "Arn").value_or("");
    out.assumed_role_id = detail::xml_element_text(*user, "AssumedRoleId").value_or("");
  }
  return out;
}

result<CallerIdentity> parse_get_caller_identity_response(const HttpResponse& response,
                                                          Diagnostics& diag) {
  auto scope = detail::xml_element_inner(response.body, "GetCallerIdentityResult");
  if (!scope) return unexpected(diag, "STS GetCallerIdentity response has no <GetCallerIdentityResult> element");
  CallerIdentity id;
  id.account = detail::xml_element_text(*scope, "Account").value_or("");
  id.arn = detail::xml_element_text(*scope, "Arn").value_or("");
  id.user_id = detail::xml_element_text(*scope, "UserId").value_or("");
  if (id.account.empty() || id.arn.empty())
    return unexpected(diag, "STS GetCallerIdentity response lacks Account or Arn");
  return id;
}

}  // namespace ctsqs::sts
