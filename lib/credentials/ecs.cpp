// The ECS/EKS container credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or
// _FULL_URI, with the authorization token), the addresses a plain-http full URI may reach, and the
// credentials JSON shared with EC2 instance metadata and credential_process.
#include "providers.hpp"
#include "credentials_json.hpp"

#include "ctsqs/aws/retry.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace ctsqs {
namespace credentials_detail {
namespace {

namespace asio = boost::asio;

asio::awaitable<result<Credentials>> ecs_fetch(CredentialsContext ctx, Diagnostics& diag) {
  HttpRequest req;
  req.method = "GET";
  bool checked_full_uri = false;
  if (auto rel = env_value(ctx.env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    req.scheme = "http";
    req.host = ctx.ecs_host;
    auto q = rel->find('?');
    req.path = rel->substr(0, q);
    if (q != std::string::npos) req.query = rel->substr(q + 1);
  } else {
    auto full = env_value(ctx.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI").value_or("");
    auto u = split_url(full);
    if (!u) {
      diag.message = "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL";
      co_return make_error_code(client_errc::invalid_argument);
    }
    // As the SDKs do: over https any host; over http only the addresses the name resolves to
    // that are loopback or the ECS/EKS agents' (checked on the addresses connected to).
    if (u->scheme == "http") checked_full_uri = true;
    req.scheme = u->scheme;
    req.host = u->host;
    auto q = u->path.find('?');
    req.path = u->path.empty() ? "/" : u->path.substr(0, q);
    if (q != std::string::npos) req.query = u->path.substr(q + 1);
  }
  std::optional<std::string> token;
  if (auto f = env_value(ctx.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    token = ctx.read_file(*f);
    if (!token) {
      diag.message = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '" + *f + "' cannot be read";
      co_return make_error_code(client_errc::io_error);
    }
    token = trim_copy(*token);
  } else {
    token = env_value(ctx.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token) req.headers.push_back({"Authorization", *token});
  transport::ExchangeOptions xopts;
  xopts.connect_timeout = std::chrono::seconds(2);
  xopts.read_timeout = std::chrono::seconds(5);
  xopts.bypass_proxy = true;
  if (checked_full_uri) xopts.allow_address = is_allowed_container_address;
  const std::string where =
      (env_value(ctx.env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ? "" : "AWS_CONTAINER_CREDENTIALS_FULL_URI ") +
      req.host + req.path;
  error_code last;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    diag.clear();
    auto resp = co_await ctx.http->async_exchange(req, xopts, diag);
    if (!resp) {
      last = resp.error();
      if (last == transport::transport_errc::address_not_allowed) {
        diag.message = "AWS_CONTAINER_CREDENTIALS_FULL_URI: host " + diag.message +
                       "; over http only loopback (127.0.0.0/8, ::1), the ECS agent "
                       "(169.254.170.2) and EKS Pod Identity (169.254.170.23, fd00:ec2::23) may "
                       "receive the container token";
        co_return last;
      }
      diag.message = "ECS container credentials (" + where + "): " + diag.message;
      if (!is_retryable(last)) co_return last;
      continue;
    }
    if (resp->status != 200) {
      diag.http_status = resp->status;
      diag.message = "ECS container credentials (" + where + "): HTTP " + std::to_string(resp->status);
      last = make_error_code(resp->status >= 500 ? aws_errc::service_unavailable : aws_errc::access_denied);
      if (resp->status < 500) co_return last;
      continue;
    }
    auto c = parse_credentials_json(resp->body, "ECS container credentials", diag);
    if (!c) co_return c.error();
    c->provider = "ecs-container";
    co_return std::move(*c);
  }
  co_return last;
}

}  // namespace

std::optional<SimpleUrl> split_url(std::string_view url) {
  auto p = url.find("://");
  if (p == std::string_view::npos) return std::nullopt;
  SimpleUrl u;
  u.scheme = std::string(url.substr(0, p));
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(p + 3);
  auto slash = rest.find_first_of("/?");
  u.host = std::string(rest.substr(0, slash));
  if (u.host.empty() || u.host.find('@') != std::string::npos) return std::nullopt;
  if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
  return u;
}

std::shared_ptr<CredentialsProvider> make_ecs_provider(const CredentialsContext& ctx) {
  return caching(ctx, [ctx](Diagnostics& d) { return ecs_fetch(ctx, d); }, "ecs-container");
}

}  // namespace credentials_detail

result<Credentials> detail::parse_credentials_document(std::string_view body, std::string_view what,
                                                       const CredentialsJsonDialect& dialect, Diagnostics& diag) {
  const std::string prefix = std::string(what) + ": " + std::string(dialect.noun);
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) {
    diag.message = prefix + " is not a JSON object";
    return make_error_code(aws_errc::malformed_response);
  }
  const auto& o = v.get_object();
  auto str = [&](std::string_view k) -> std::string {
    auto it = o.find(k);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
  };
  if (dialect.check_code) {
    if (auto code = str("Code"); !code.empty() && code != "Success") {
      diag.message = std::string(what) + ": credentials not available (Code " + code + ")";
      return make_error_code(aws_errc::malformed_response);
    }
  }
  if (dialect.require_version_1) {
    const auto* version = o.if_contains("Version");
    if (!version || !version->is_int64() || version->get_int64() != 1) {
      diag.message = prefix + " has no \"Version\": 1 (the only version the AWS SDKs define)";
      return make_error_code(aws_errc::malformed_response);
    }
  }
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str(dialect.token_key);
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    diag.message = prefix + " lacks AccessKeyId or SecretAccessKey";
    return make_error_code(aws_errc::malformed_response);
  }
  if (auto e = str("Expiration"); !e.empty()) {
    Diagnostics t_diag;
    auto t = sts::parse_iso8601(e, t_diag);
    if (!t) {
      diag.message = std::string(what) + ": unreadable Expiration: " + t_diag.message;
      return make_error_code(aws_errc::malformed_response);
    }
    // A clamped far-future date (e.g. 9999-12-31T23:59:59Z) means keys that do not expire.
    if (*t < sts::far_future) c.expiration = *t;
  }
  return c;
}

bool is_allowed_container_address(const boost::asio::ip::address& address) noexcept {
  namespace ip = boost::asio::ip;
  if (address.is_v6()) {
    const ip::address_v6 v6 = address.to_v6();
    if (v6.is_v4_mapped()) return is_allowed_container_address(ip::make_address_v4(ip::v4_mapped, v6));
    static const ip::address_v6 eks = ip::make_address_v6("fd00:ec2::23");
    return v6.is_loopback() || v6 == eks;
  }
  const ip::address_v4 v4 = address.to_v4();
  static const ip::address_v4 ecs = ip::make_address_v4("169.254.170.2");
  static const ip::address_v4 eks = ip::make_address_v4("169.254.170.23");
  return v4.is_loopback() || v4 == ecs || v4 == eks;
}

result<Credentials> parse_credentials_json(std::string_view body, std::string_view what, Diagnostics& diag) {
  return detail::parse_credentials_document(body, what, {"Token", "response", true, false}, diag);
}

}  // namespace ctsqs
