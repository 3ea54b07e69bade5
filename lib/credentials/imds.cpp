// EC2 instance metadata (IMDSv2 session token, then the role and its credentials; IMDSv1 only when
// neither AWS_EC2_METADATA_V1_DISABLED nor the profile forbids it).
#include "providers.hpp"

#include <boost/asio/use_awaitable.hpp>

namespace ctsqs::credentials_detail {
namespace {

namespace asio = boost::asio;

// What forbids the IMDSv1 fallback ("" when nothing does): the variable, else the profile.
std::string imds_v1_disabled_by(const CredentialsContext& ctx) {
  if (auto v = env_value(ctx.env, "AWS_EC2_METADATA_V1_DISABLED"))
    return is_true(v) ? "AWS_EC2_METADATA_V1_DISABLED=true" : "";
  if (!ctx.ec2_metadata_v1_disabled_by.empty())
    return "ec2_metadata_v1_disabled = true (profile " + ctx.ec2_metadata_v1_disabled_by + ")";
  return "";
}

asio::awaitable<result<Credentials>> imds_fetch(CredentialsContext ctx, Diagnostics& diag) {
  std::string base = ctx.imds_endpoint;
  if (base.empty()) base = env_value(ctx.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  auto u = split_url(base);
  if (!u) {
    diag.message = "EC2 metadata endpoint '" + base + "' is not an http(s) URL";
    co_return make_error_code(client_errc::invalid_argument);
  }
  transport::ExchangeOptions xopts;
  xopts.connect_timeout = std::chrono::seconds(1);
  xopts.read_timeout = std::chrono::seconds(2);
  xopts.bypass_proxy = true;
  auto make = [&](std::string method, std::string path) {
    HttpRequest r;
    r.method = std::move(method);
    r.scheme = u->scheme;
    r.host = u->host;
    r.path = std::move(path);
    return r;
  };
  // IMDSv2: a session token first (PUT), then the role name and its credentials.
  HttpRequest token_req = make("PUT", "/latest/api/token");
  token_req.headers.push_back({"X-aws-ec2-metadata-token-ttl-seconds", "21600"});
  auto token_resp = co_await ctx.http->async_exchange(token_req, xopts, diag);
  if (!token_resp) {
    diag.message = "EC2 instance metadata (" + u->host + "): " + diag.message;
    co_return token_resp.error();
  }
  std::string token;
  if (token_resp->status == 200) {
    token = trim_copy(token_resp->body);
  } else if (token_resp->status != 403 && token_resp->status != 404 && token_resp->status != 405) {
    diag.http_status = token_resp->status;
    diag.message = "EC2 instance metadata: token request answered HTTP " + std::to_string(token_resp->status);
    co_return make_error_code(aws_errc::malformed_response);
  } else if (const auto why = imds_v1_disabled_by(ctx); !why.empty()) {
    diag.http_status = token_resp->status;
    diag.message = "EC2 instance metadata (" + u->host + "): the session token request answered HTTP " +
                   std::to_string(token_resp->status) + " and " + why +
                   " forbids falling back to IMDSv1 without a token";
    co_return make_error_code(aws_errc::access_denied);
  }  // 403/404/405: IMDSv1-only endpoint; continue without a token
  auto get = [&](std::string path) {
    HttpRequest r = make("GET", std::move(path));
    if (!token.empty()) r.headers.push_back({"X-aws-ec2-metadata-token", token});
    return r;
  };
  const std::string base_path = "/latest/meta-data/iam/security-credentials/";
  auto roles = co_await ctx.http->async_exchange(get(base_path), xopts, diag);
  if (!roles) {
    diag.message = "EC2 instance metadata: " + diag.message;
    co_return roles.error();
  }
  if (roles->status != 200) {
    diag.http_status = roles->status;
    diag.message = "EC2 instance metadata: no instance profile role (HTTP " + std::to_string(roles->status) + ")";
    co_return make_error_code(aws_errc::unknown);
  }
  std::string role = trim_copy(std::string_view(roles->body).substr(0, roles->body.find('\n')));
  if (role.empty() || role.find('/') != std::string::npos) {
    diag.message = "EC2 instance metadata: unexpected role list";
    co_return make_error_code(aws_errc::malformed_response);
  }
  auto creds = co_await ctx.http->async_exchange(get(base_path + role), xopts, diag);
  if (!creds) {
    diag.message = "EC2 instance metadata: " + diag.message;
    co_return creds.error();
  }
  if (creds->status != 200) {
    diag.http_status = creds->status;
    diag.message = "EC2 instance metadata: credentials of role " + role + " answered HTTP " + std::to_string(creds->status);
    co_return make_error_code(aws_errc::malformed_response);
  }
  auto c = parse_credentials_json(creds->body, "EC2 instance metadata", diag);
  if (!c) co_return c.error();
  c->provider = "ec2-instance-metadata (role " + role + ")";
  co_return std::move(*c);
}

}  // namespace

std::shared_ptr<CredentialsProvider> make_imds_provider(const CredentialsContext& ctx) {
  return caching(ctx, [ctx](Diagnostics& d) { return imds_fetch(ctx, d); }, "ec2-instance-metadata");
}

}  // namespace ctsqs::credentials_detail
