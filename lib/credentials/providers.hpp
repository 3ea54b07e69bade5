// The credential providers' shared internals (lib/credentials only): the STS exchange used by
// AssumeRole and web identity, the ECS/IMDS/web-identity/environment sources the chain and the
// profile plans pick from, and the shared files' paths.
#pragma once

#include "ctsqs/aws/credentials/chain.hpp"
#include "ctsqs/aws/credentials/profile_file.hpp"
#include "ctsqs/aws/credentials/provider.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "../detail/text.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs::credentials_detail {

inline std::string trim_copy(std::string_view s) { return std::string(detail::trim(s)); }

/// A boolean variable or profile value of the credential providers: "true" in any case, or "1".
inline bool is_true(const std::optional<std::string>& v) { return v && (detail::is_true_setting(*v) || *v == "1"); }

/// Splits "scheme://host[:port][/path]" for the endpoints the providers talk to directly.
struct SimpleUrl {
  std::string scheme, host, path;
};

std::optional<SimpleUrl> split_url(std::string_view url);

/// A provider that caches what `f` fetches until it expires (CachingCredentialsProvider).
inline std::shared_ptr<CredentialsProvider> caching(const CredentialsContext& ctx, CredentialsFetcher f,
                                                    std::string description) {
  return std::make_shared<CachingCredentialsProvider>(ctx.executor, std::move(f), std::move(description),
                                                      ctx.clock);
}

/// The shared files' paths ("" when neither the variable nor HOME/USERPROFILE is set).
std::string config_file_path(const EnvLookup& env);
std::string credentials_file_path(const EnvLookup& env);
/// Both paths, for messages.
std::string shared_file_paths(const EnvLookup& env);
/// Whether a profile says where credentials come from (else it holds settings only).
bool has_credential_settings(const ProfileSettings& p);

/// Where STS requests go for `region` when the context names no target.
result<sts::StsTarget> default_sts_target(const CredentialsContext& ctx, const std::string& region,
                                          Diagnostics& diag);

/// One STS call: sign (when credentials are given), exchange, retry throttling/5xx/resets.
boost::asio::awaitable<result<HttpResponse>> sts_exchange(CredentialsContext ctx,
                                                          std::optional<Credentials> creds,
                                                          std::string region, HttpRequest req,
                                                          std::string action, Diagnostics& diag);

/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN]; nullopt when either key is unset.
std::optional<Credentials> env_keys(const EnvLookup& env);

/// The ECS/EKS container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI).
std::shared_ptr<CredentialsProvider> make_ecs_provider(const CredentialsContext& ctx);

/// EC2 instance metadata (IMDSv2, IMDSv1 fallback unless disabled).
std::shared_ptr<CredentialsProvider> make_imds_provider(const CredentialsContext& ctx);

/// AssumeRoleWithWebIdentity with the token in `file`.
std::shared_ptr<CredentialsProvider> make_web_identity_provider(const CredentialsContext& ctx,
                                                                std::string file, std::string role,
                                                                std::string session);

/// Builds the provider a profile plan describes.
result<std::shared_ptr<CredentialsProvider>> provider_from_plan(const CredentialsContext& ctx,
                                                                const ProfilePlan& plan,
                                                                Diagnostics& diag);

}  // namespace ctsqs::credentials_detail
