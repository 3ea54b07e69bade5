// Web identity: AssumeRoleWithWebIdentity with the token read from AWS_WEB_IDENTITY_TOKEN_FILE
// (or a profile's web_identity_token_file).
#include "providers.hpp"

#include <boost/asio/use_awaitable.hpp>

namespace ctsqs::credentials_detail {
namespace {

namespace asio = boost::asio;

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

}  // namespace

std::shared_ptr<CredentialsProvider> make_web_identity_provider(const CredentialsContext& ctx,
                                                                std::string file, std::string role,
                                                                std::string session) {
  std::string desc = "web-identity " + role;
  return caching(
      ctx,
      [ctx, file, role, session](Diagnostics& d) { return web_identity_fetch(ctx, file, role, session, d); },
      desc);
}

}  // namespace ctsqs::credentials_detail
