// The default credentials chain (environment, web identity, profile, ECS, IMDSv2) and the
// AssumeRole providers for the template's roles.
#include "ctsqs/credentials/chain.hpp"

#include "ctsqs/credentials/process.hpp"
#include "credentials_json.hpp"

#include "ctsqs/aws_error_response.hpp"
#include "ctsqs/endpoints.hpp"
#include "ctsqs/retry.hpp"
#include "ctsqs/sigv4/signer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <mutex>
#include <sstream>

namespace ctsqs {
namespace {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string trim_copy(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool is_true(const std::optional<std::string>& v) {
  if (!v) return false;
  std::string s = *v;
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "true" || s == "1";
}

// Whether a profile says where credentials come from (else it holds settings only).
bool has_credential_settings(const ProfileSettings& p) {
  for (const char* k : {"aws_access_key_id", "aws_secret_access_key", "role_arn", "credential_source",
                        "credential_process", "web_identity_token_file", "sso_start_url", "sso_session"})
    if (p.find(k) != p.end()) return true;
  return false;
}

std::string config_file_path(const EnvLookup& env) {
  const std::string home = env_value(env, "HOME").value_or(env_value(env, "USERPROFILE").value_or(""));
  return env_value(env, "AWS_CONFIG_FILE").value_or(home.empty() ? "" : home + "/.aws/config");
}

std::string credentials_file_path(const EnvLookup& env) {
  const std::string home = env_value(env, "HOME").value_or(env_value(env, "USERPROFILE").value_or(""));
  return env_value(env, "AWS_SHARED_CREDENTIALS_FILE").value_or(home.empty() ? "" : home + "/.aws/credentials");
}

std::string shared_file_paths(const EnvLookup& env) {
  return config_file_path(env) + ", " + credentials_file_path(env);
}

/// Splits "scheme://host[:port][/path]" for the endpoints this file talks to directly.
struct SimpleUrl {
  std::string scheme, host, path;
};

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

result<sts::StsTarget> default_sts_target(const CredentialsContext& ctx, const std::string& region,
                                          Diagnostics& diag) {
  auto ep = resolve_endpoint(AwsService::sts, region, ctx.endpoints, ctx.env, &diag);
  if (!ep) {
    diag.message = "STS endpoint: " + diag.message;
    return ep.error();
  }
  sts::StsTarget t;
  t.scheme = ep->scheme;
  t.host = ep->host;
  t.base_path = ep->base_path;
  return t;
}

/// One STS call: sign (when credentials are given), exchange, retry throttling/5xx/resets.
asio::awaitable<result<HttpResponse>> sts_exchange(CredentialsContext ctx,
                                                   std::optional<Credentials> creds,
                                                   std::string region, HttpRequest req,
                                                   std::string action, Diagnostics& diag) {
  RetryPolicy policy;
  policy.max_attempts = ctx.endpoints.max_attempts > 0 ? ctx.endpoints.max_attempts : 3;  // 0: the SDK default
  JitterSource jitter = default_jitter();
  transport::ExchangeOptions xopts;
  xopts.connect_timeout = ctx.endpoints.connect_timeout;
  xopts.read_timeout = ctx.endpoints.read_timeout;
  const std::string signing_region = region.empty() ? "us-east-1" : region;
  for (int attempt = 1;; ++attempt) {
    diag.clear();
    HttpRequest r = req;
    if (creds) {
      sigv4::SigningParams sp;
      sp.region = signing_region;
      sp.service = "sts";
      sp.time = ctx.clock();
      if (auto s = sigv4::sign(r, *creds, sp); !s) {
        diag.message = "sts " + action + ": signing failed";
        co_return s.error();
      }
    }
    auto resp = co_await ctx.http->async_exchange(std::move(r), xopts, diag);
    error_code ec;
    if (!resp) {
      ec = resp.error();
      diag.message = "sts " + action + ": " + diag.message;
    } else if (resp->status / 100 == 2) {
      co_return std::move(*resp);
    } else {
      ec = aws_error_to_code(parse_aws_error(*resp), "sts " + action, diag);
    }
    // Clock skew: learn the correction from the answer's Date (shared with the AwsClient, whose
    // clock includes it) and sign again at once.
    bool skew_fixed = false;
    if (ec == aws_errc::clock_skew && resp && ctx.clock_offset_s)
      if (auto delta = clock_skew_offset(resp->header("Date"), ctx.clock())) {
        ctx.clock_offset_s->fetch_add(delta->count());
        skew_fixed = true;
      }
    const bool fixable_here = ec != aws_errc::expired_token && (ec != aws_errc::clock_skew || skew_fixed);
    if (!is_retryable(ec) || !fixable_here || attempt >= policy.max_attempts) co_return ec;
    if (skew_fixed) continue;
    asio::steady_timer timer(ctx.executor);
    timer.expires_after(backoff_delay(policy, attempt, ec, jitter()));
    auto [tec] = co_await timer.async_wait(use_tuple);
    if (tec) co_return make_error_code(client_errc::cancelled);
  }
}

std::string describe_role(const sts::AssumeRoleParams& p) {
  return "assume-role " + p.role_arn + (p.external_id.empty() ? "" : " (with external id)");
}

asio::awaitable<result<Credentials>> assume_role_fetch(CredentialsContext ctx,
                                                       std::shared_ptr<CredentialsProvider> source,
                                                       sts::AssumeRoleParams params,
                                                       Diagnostics& diag) {
  for (int round = 0;; ++round) {
    diag.clear();
    auto base = co_await source->async_get(diag);
    if (!base) {
      diag.message = "assuming role " + params.role_arn + ": no source credentials (" +
                     source->describe() + "): " + diag.message;
      co_return base.error();
    }
    const std::string& region = ctx.region;
    auto target = (ctx.sts_target ? ctx.sts_target(region, diag) : default_sts_target(ctx, region, diag));
    if (!target) co_return target.error();
    HttpRequest req = sts::make_assume_role_request(*target, params);
    auto resp = co_await sts_exchange(ctx, *base, region, std::move(req), "AssumeRole", diag);
    if (!resp) {
      if (resp.error() == aws_errc::expired_token && round == 0) {
        source->invalidate();  // the source's temporary credentials expired: refresh them once
        continue;
      }
      diag.message += " [role " + params.role_arn + ", source " + source->describe() + "]";
      if (resp.error() == aws_errc::access_denied)
        diag.message += params.external_id.empty()
                            ? " (does the role's trust policy require an external id?)"
                            : " (check the external id and the role's trust policy)";
      co_return resp.error();
    }
    auto parsed = sts::parse_assume_role_response(*resp, diag);
    if (!parsed) co_return parsed.error();
    Credentials c = std::move(parsed->credentials);
    c.provider = describe_role(params);
    co_return c;
  }
}

asio::awaitable<result<Credentials>> web_identity_fetch(CredentialsContext ctx, std::string token_file,
                                                        std::string role_arn, std::string session_name,
                                                        Diagnostics& diag) {
  auto token = ctx.read_file(token_file);
  if (!token || trim_copy(*token).empty()) {
    diag.message = "web identity: token file '" + token_file + "' " + (token ? "is empty" : "cannot be read");
    co_return make_error_code(client_errc::io_error);
  }
  auto target = ctx.sts_target ? ctx.sts_target(ctx.region, diag) : default_sts_target(ctx, ctx.region, diag);
  if (!target) co_return target.error();
  sts::AssumeRoleWithWebIdentityParams p;
  p.role_arn = role_arn;
  p.session_name = session_name.empty() ? "ctsqs" : session_name;
  p.web_identity_token = trim_copy(*token);
  auto req = sts::make_assume_role_with_web_identity_request(*target, p);
  auto resp = co_await sts_exchange(ctx, std::nullopt, ctx.region, std::move(req),
                                    "AssumeRoleWithWebIdentity", diag);
  if (!resp) {
    diag.message += " [role " + role_arn + "]";
    co_return resp.error();
  }
  auto parsed = sts::parse_assume_role_response(*resp, diag);
  if (!parsed) co_return parsed.error();
  Credentials c = std::move(parsed->credentials);
  c.provider = "web-identity " + role_arn;
  co_return c;
}

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

std::shared_ptr<CredentialsProvider> caching(const CredentialsContext& ctx, CredentialsFetcher f,
                                             std::string description) {
  return std::make_shared<CachingCredentialsProvider>(ctx.executor, std::move(f), std::move(description),
                                                      ctx.clock);
}

std::shared_ptr<CredentialsProvider> make_ecs_provider(const CredentialsContext& ctx) {
  return caching(ctx, [ctx](Diagnostics& d) { return ecs_fetch(ctx, d); }, "ecs-container");
}

std::shared_ptr<CredentialsProvider> make_imds_provider(const CredentialsContext& ctx) {
  return caching(ctx, [ctx](Diagnostics& d) { return imds_fetch(ctx, d); }, "ec2-instance-metadata");
}

std::shared_ptr<CredentialsProvider> make_web_identity_provider(const CredentialsContext& ctx,
                                                                std::string file, std::string role,
                                                                std::string session) {
  std::string desc = "web-identity " + role;
  return caching(
      ctx,
      [ctx, file, role, session](Diagnostics& d) { return web_identity_fetch(ctx, file, role, session, d); },
      desc);
}

std::optional<Credentials> env_keys(const EnvLookup& env) {
  auto akid = env_value(env, "AWS_ACCESS_KEY_ID");
  auto secret = env_value(env, "AWS_SECRET_ACCESS_KEY");
  if (!akid || !secret) return std::nullopt;
  Credentials c;
  c.access_key_id = *akid;
  c.secret_access_key = *secret;
  c.session_token = env_value(env, "AWS_SESSION_TOKEN").value_or("");
  c.provider = "environment";
  return c;
}

/// Builds the provider a profile plan describes.
result<std::shared_ptr<CredentialsProvider>> provider_from_plan(const CredentialsContext& ctx,
                                                                const ProfilePlan& plan,
                                                                Diagnostics& diag) {
  std::shared_ptr<CredentialsProvider> base;
  switch (plan.source) {
    case ProfileSource::static_keys:
      base = std::make_shared<StaticCredentialsProvider>(plan.static_keys);
      break;
    case ProfileSource::environment: {
      auto c = env_keys(ctx.env);
      if (!c) {
        diag.message = "profile '" + plan.source_profile +
                       "': credential_source = Environment but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set";
        return make_error_code(client_errc::invalid_argument);
      }
      base = std::make_shared<StaticCredentialsProvider>(*c);
      break;
    }
    case ProfileSource::ec2_metadata: base = make_imds_provider(ctx); break;
    case ProfileSource::ecs_container: base = make_ecs_provider(ctx); break;
    case ProfileSource::web_identity:
      base = make_web_identity_provider(ctx, plan.web_identity_token_file, plan.web_identity_role_arn,
                                        plan.web_identity_session_name);
      break;
    case ProfileSource::process: {
      const auto ex = ctx.executor;
      base = caching(
          ctx,
          [ex, command = plan.process_command, profile = plan.source_profile](Diagnostics& d) {
            return async_credential_process(ex, command, profile, {}, d);
          },
          "profile " + plan.source_profile + " credential_process");
      break;
    }
  }
  for (const auto& step : plan.roles) {
    sts::AssumeRoleParams p;
    p.role_arn = step.role_arn;
    p.external_id = step.external_id;
    if (!step.session_name.empty()) p.session_name = step.session_name;
    if (step.duration.count() > 0) p.duration = step.duration;
    if (auto v = sts::validate(p, diag); !v) {
      diag.message = step.from + ": " + diag.message;
      return v.error();
    }
    base = make_assume_role_provider(ctx, std::move(base), p);
  }
  return base;
}

/// Picks the first configured source at the first call and keeps it.
class ChainProvider final : public CredentialsProvider {
 public:
  ChainProvider(CredentialsContext ctx, std::string profile) : ctx_(std::move(ctx)), profile_(std::move(profile)) {}

  asio::awaitable<result<Credentials>> async_get(Diagnostics& diag) override {
    std::shared_ptr<CredentialsProvider> chosen;
    {
      std::lock_guard lock(mu_);
      if (!chosen_) {
        auto sel = select(diag);
        if (!sel) co_return sel.error();
        chosen_ = std::move(*sel);
      }
      chosen = chosen_;
    }
    auto r = co_await chosen->async_get(diag);
    if (!r && chosen->describe() == "ec2-instance-metadata")
      diag.message = "no AWS credentials found (tried " + tried_ + "; EC2 instance metadata: " + diag.message + ")";
    co_return r;
  }

  void invalidate() noexcept override {
    std::lock_guard lock(mu_);
    if (chosen_) chosen_->invalidate();
  }

  std::string describe() const override {
    std::lock_guard lock(mu_);
    return chosen_ ? chosen_->describe() : "default chain (not resolved yet)";
  }

 private:
  result<std::shared_ptr<CredentialsProvider>> select(Diagnostics& diag) {
    const EnvLookup& env = ctx_.env;
    if (auto c = env_keys(env)) return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentialsProvider>(*c));
    tried_ = "environment";
    auto token_file = env_value(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
    auto role = env_value(env, "AWS_ROLE_ARN");
    if (token_file && role)
      return make_web_identity_provider(ctx_, *token_file, *role, env_value(env, "AWS_ROLE_SESSION_NAME").value_or(""));
    tried_ += ", web identity";

    // Shared files.
    const bool explicit_profile = !profile_.empty() || env_value(env, "AWS_PROFILE") ||
                                  env_value(env, "AWS_DEFAULT_PROFILE");
    const std::string profile = effective_profile_name(env, profile_);
    auto loaded = load_shared_config(env, ctx_.read_file, diag);
    if (!loaded) return loaded.error();
    const SharedConfig& files = *loaded;
    CredentialsContext ctx = ctx_;
    const auto settings = files.profiles.find(profile);
    if (settings != files.profiles.end()) {
      if (auto v = settings->second.find("ec2_metadata_v1_disabled");
          v != settings->second.end() && is_true(v->second))
        ctx.ec2_metadata_v1_disabled_by = profile;
    }
    // The default profile may hold settings only (a region, IMDS options: common on EC2): the
    // chain then goes on, as the SDKs do. A profile named explicitly must give credentials.
    if (settings != files.profiles.end() && (explicit_profile || has_credential_settings(settings->second))) {
      auto plan = plan_profile(files, profile, diag);
      if (!plan) return plan.error();
      auto p = provider_from_plan(ctx, *plan, diag);
      if (!p) return p.error();
      return std::shared_ptr<CredentialsProvider>(std::make_shared<DescribedProvider>(
          std::move(*p), "profile " + profile));
    }
    if (explicit_profile && settings == files.profiles.end()) {
      diag.message = "profile '" + profile + "' not found in the shared config/credentials files (" +
                     shared_file_paths(env) + ")";
      return make_error_code(client_errc::invalid_argument);
    }
    tried_ += ", profile " + profile + (settings != files.profiles.end() ? " (no credentials in it)" : "");

    if (env_value(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env_value(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
      return make_ecs_provider(ctx);
    tried_ += ", ECS container";

    if (is_true(env_value(env, "AWS_EC2_METADATA_DISABLED"))) {
      diag.message = "no AWS credentials found (tried " + tried_ +
                     "; EC2 instance metadata is disabled by AWS_EC2_METADATA_DISABLED)";
      return make_error_code(client_errc::invalid_argument);
    }
    return make_imds_provider(ctx);
  }

  /// Prefixes a provider's description ("profile dev: assume-role ...").
  class DescribedProvider final : public CredentialsProvider {
   public:
    DescribedProvider(std::shared_ptr<CredentialsProvider> inner, std::string prefix)
        : inner_(std::move(inner)), prefix_(std::move(prefix)) {}
    asio::awaitable<result<Credentials>> async_get(Diagnostics& diag) override { return inner_->async_get(diag); }
    void invalidate() noexcept override { inner_->invalidate(); }
    std::string describe() const override {
      auto inner = inner_->describe();
      return inner.starts_with(prefix_) ? inner : prefix_ + ": " + inner;
    }

   private:
    std::shared_ptr<CredentialsProvider> inner_;
    std::string prefix_;
  };

  CredentialsContext ctx_;
  std::string profile_;
  mutable std::mutex mu_;
  std::shared_ptr<CredentialsProvider> chosen_;
  std::string tried_;
};

/// Describes an AssumeRole provider as "assume-role ARN <- source".
class AssumeRoleProvider final : public CredentialsProvider {
 public:
  AssumeRoleProvider(const CredentialsContext& ctx, std::shared_ptr<CredentialsProvider> source,
                     sts::AssumeRoleParams params)
      : source_(source), params_(params) {
    cache_ = std::make_shared<CachingCredentialsProvider>(
        ctx.executor,
        [ctx, source, params](Diagnostics& d) { return assume_role_fetch(ctx, source, params, d); },
        describe_role(params), ctx.clock);
  }
  asio::awaitable<result<Credentials>> async_get(Diagnostics& diag) override { return cache_->async_get(diag); }
  void invalidate() noexcept override { cache_->invalidate(); }
  std::string describe() const override { return describe_role(params_) + " <- " + source_->describe(); }

 private:
  std::shared_ptr<CredentialsProvider> source_;
  sts::AssumeRoleParams params_;
  std::shared_ptr<CachingCredentialsProvider> cache_;
};

}  // namespace

std::string effective_profile_name(const EnvLookup& env, std::string_view configured) {
  if (!configured.empty()) return std::string(configured);
  if (auto p = env_value(env, "AWS_PROFILE")) return *p;
  if (auto p = env_value(env, "AWS_DEFAULT_PROFILE")) return *p;
  return "default";
}

result<SharedConfig> load_shared_config(const EnvLookup& env, const FileReader& read_file, Diagnostics& diag) {
  SharedConfig files;
  const std::string home = env_value(env, "HOME").value_or(env_value(env, "USERPROFILE").value_or(""));
  const FileReader reader = read_file ? read_file : real_file_reader();
  for (auto [path, is_config] : {std::pair{config_file_path(env), true}, std::pair{credentials_file_path(env), false}}) {
    if (path.empty()) continue;
    if (path.starts_with("~/") && !home.empty()) path = home + path.substr(1);
    auto text = reader(path);
    if (!text) continue;
    if (auto r = parse_shared_config_file(*text, is_config, path, files, diag); !r) return r.error();
  }
  return files;
}

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

FileReader real_file_reader() {
  return [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return ss.str();
  };
}

std::shared_ptr<CredentialsProvider> make_default_chain(const CredentialsContext& ctx_in, std::string profile) {
  CredentialsContext ctx = ctx_in;
  if (!ctx.read_file) ctx.read_file = real_file_reader();
  if (!ctx.clock) ctx.clock = system_wall_clock();
  return std::make_shared<ChainProvider>(std::move(ctx), std::move(profile));
}

std::shared_ptr<CredentialsProvider> make_assume_role_provider(const CredentialsContext& ctx_in,
                                                               std::shared_ptr<CredentialsProvider> source,
                                                               sts::AssumeRoleParams params) {
  CredentialsContext ctx = ctx_in;
  if (!ctx.read_file) ctx.read_file = real_file_reader();
  if (!ctx.clock) ctx.clock = system_wall_clock();
  return std::make_shared<AssumeRoleProvider>(ctx, std::move(source), std::move(params));
}

result<std::shared_ptr<CredentialsProvider>> make_credentials_provider(const AwsCredentialsConfig& cfg,
                                                                       const CredentialsContext& ctx_in,
                                                                       Diagnostics& diag) {
  CredentialsContext ctx = ctx_in;
  if (!ctx.read_file) ctx.read_file = real_file_reader();
  if (!ctx.clock) ctx.clock = system_wall_clock();
  if (!ctx.http) {
    diag.message = "credentials: no HTTP client";
    return make_error_code(client_errc::invalid_argument);
  }
  std::shared_ptr<CredentialsProvider> base;
  if (!cfg.access_key_id.empty() || !cfg.secret_access_key.empty()) {
    if (cfg.access_key_id.empty() || cfg.secret_access_key.empty()) {
      diag.message = cfg.access_key_id.empty() ? "credentials: aws_secret_access_key is set but aws_access_key_id is not"
                                               : "credentials: aws_access_key_id is set but aws_secret_access_key is not";
      return make_error_code(client_errc::invalid_argument);
    }
    Credentials c;
    c.access_key_id = cfg.access_key_id;
    c.secret_access_key = cfg.secret_access_key;
    c.provider = "static configuration";
    base = std::make_shared<StaticCredentialsProvider>(std::move(c));
  } else {
    base = make_default_chain(ctx, cfg.profile);
  }
  auto add_role = [&](const std::string& arn, const std::string& external_id, const char* field) -> result<void> {
    sts::AssumeRoleParams p;
    p.role_arn = arn;
    p.external_id = external_id;
    p.session_name = cfg.session_name;
    p.duration = cfg.session_duration;
    if (auto v = sts::validate(p, diag); !v) {
      diag.message = std::string("credentials: ") + field + ": " + diag.message;
      return v.error();
    }
    base = make_assume_role_provider(ctx, std::move(base), std::move(p));
    return {};
  };
  if (!cfg.base_account_role.empty())
    if (auto r = add_role(cfg.base_account_role, "", "aws_base_account_role"); !r) return r.error();
  if (!cfg.cross_account_role.empty()) {
    if (auto r = add_role(cfg.cross_account_role, cfg.external_id, "aws_cross_account_role"); !r) return r.error();
  } else if (!cfg.external_id.empty()) {
    diag.message = "credentials: aws_external_id is set but aws_cross_account_role is not";
    return make_error_code(client_errc::invalid_argument);
  }
  return base;
}

}  // namespace ctsqs
