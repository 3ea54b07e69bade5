// AssumeRole: the STS exchange (signing, clock-skew correction, retries) and the caching provider
// that assumes a role with the credentials of another provider.
#include "providers.hpp"

#include "ctsqs/aws/error_response.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/aws/retry.hpp"
#include "ctsqs/aws/sigv4/signer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ctsqs {
namespace credentials_detail {

namespace asio = boost::asio;
namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

result<sts::StsTarget> default_sts_target(const CredentialsContext& ctx, const std::string& region,
                                          Diagnostics& diag) {
  auto ep = resolve_endpoint(AwsService::sts, region, ctx.endpoints, ctx.env, diag);
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
      if (auto s = sigv4::sign(r, *creds, sp, diag); !s) {
        diag.message = "sts " + action + ": signing failed: " + diag.message;
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

}  // namespace credentials_detail

namespace {

namespace asio = boost::asio;
using credentials_detail::default_sts_target;
using credentials_detail::sts_exchange;

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

std::shared_ptr<CredentialsProvider> make_assume_role_provider(const CredentialsContext& ctx_in,
                                                               std::shared_ptr<CredentialsProvider> source,
                                                               sts::AssumeRoleParams params) {
  CredentialsContext ctx = ctx_in;
  if (!ctx.read_file) ctx.read_file = real_file_reader();
  if (!ctx.clock) ctx.clock = system_wall_clock();
  return std::make_shared<AssumeRoleProvider>(ctx, std::move(source), std::move(params));
}

}  // namespace ctsqs
