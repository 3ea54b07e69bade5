// The default credentials chain (AWS SDK order) and the template's roles on top of it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "ctsqs/aws/config.hpp"
#include "ctsqs/environment.hpp"
#include "ctsqs/aws/credentials/profile_file.hpp"
#include "ctsqs/aws/credentials/provider.hpp"
#include "ctsqs/aws/sts.hpp"
#include "ctsqs/transport/https_client.hpp"

#include <boost/asio/ip/address.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace ctsqs {

/// What credential providers need from the outside world. Everything is injected.
struct CredentialsContext {
  boost::asio::any_io_executor executor;
  transport::HttpsClient* http = nullptr;  ///< for STS, ECS and IMDS; must outlive the providers
  EnvLookup env;                           ///< AWS_* variables, HOME
  FileReader read_file;                    ///< unset: real_file_reader()
  WallClock clock;                         ///< unset: the system clock
  /// Correction (server time − local time, seconds) learnt from clock-skew answers, shared with
  /// the AwsClient that built this context; may be null. STS calls that are refused for clock
  /// skew store the correction from the answer's Date header here and retry at once; `clock`
  /// is expected to already include it (AwsClient passes a corrected clock), so credentials'
  /// expiry is judged on the server's time.
  std::shared_ptr<std::atomic<std::int64_t>> clock_offset_s;
  std::string region;                      ///< for the regional STS endpoint
  AwsEndpointConfig endpoints;             ///< sts_endpoint, use_fips, timeouts
  /// Where STS requests go for `region`; unset: sts_endpoint / AWS_ENDPOINT_URL_STS /
  /// AWS_ENDPOINT_URL, else https://sts.<region>.<partition suffix>.
  std::function<result<sts::StsTarget>(const std::string& region, Diagnostics& diag)> sts_target;
  /// EC2 instance metadata endpoint; empty: AWS_EC2_METADATA_SERVICE_ENDPOINT or
  /// http://169.254.169.254.
  std::string imds_endpoint;
  /// A shared-config profile whose `ec2_metadata_v1_disabled` is true ("": none): EC2 instance
  /// metadata then never falls back to IMDSv1. AWS_EC2_METADATA_V1_DISABLED, when set, wins.
  /// The default chain sets it from the profile it reads.
  std::string ec2_metadata_v1_disabled_by;
  /// ECS container endpoint host for relative URIs (tests point it at loopback).
  std::string ecs_host = "169.254.170.2";
};

/// The shared config/credentials files as the AWS SDKs locate them: AWS_CONFIG_FILE /
/// AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials (HOME). Missing files
/// are skipped; a malformed file is an error naming file and line.
result<SharedConfig> load_shared_config(const EnvLookup& env, const FileReader& read_file, Diagnostics& diag);

/// The profile to use: `configured`, else AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
std::string effective_profile_name(const EnvLookup& env, std::string_view configured);

/// Parses the credentials JSON of the ECS container endpoint and EC2 instance metadata
/// (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`; `Code` other than "Success" is an
/// error). `what` names the source in messages; secrets never appear in `diag`.
result<Credentials> parse_credentials_json(std::string_view body, std::string_view what, Diagnostics& diag);

/// Whether a plain-http AWS_CONTAINER_CREDENTIALS_FULL_URI may send the container token to
/// `address`, as the AWS SDKs decide it on the resolved addresses: loopback (127.0.0.0/8, ::1,
/// also IPv4-mapped), the ECS agent 169.254.170.2, EKS Pod Identity 169.254.170.23 and
/// fd00:ec2::23.
bool is_allowed_container_address(const boost::asio::ip::address& address) noexcept;

/// The default chain, in the AWS SDKs' order: environment (AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); web identity (AWS_WEB_IDENTITY_TOKEN_FILE +
/// AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]); the shared files' profile (`profile`, else
/// AWS_PROFILE, else "default"; AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE or ~/.aws/*);
/// ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with
/// AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]; a plain-http full URI only to the addresses
/// is_allowed_container_address() accepts); EC2 instance metadata with IMDSv2 tokens (unless
/// AWS_EC2_METADATA_DISABLED=true; no IMDSv1 fallback when AWS_EC2_METADATA_V1_DISABLED=true
/// or, without that variable, the profile's `ec2_metadata_v1_disabled = true`). A profile that
/// holds no credential setting (only a region, IMDS options) is passed over, as the SDKs do.
/// The first source that is configured is used for good.
std::shared_ptr<CredentialsProvider> make_default_chain(const CredentialsContext& ctx,
                                                        std::string profile = {});

/// STS AssumeRole on top of `source`, cached and refreshed before expiry.
std::shared_ptr<CredentialsProvider> make_assume_role_provider(const CredentialsContext& ctx,
                                                               std::shared_ptr<CredentialsProvider> source,
                                                               sts::AssumeRoleParams params);

/// The provider for the template's configuration: static keys when both are set (else the
/// default chain with `profile`), then `base_account_role` (optional), then
/// `cross_account_role` with `external_id`, each through STS AssumeRole with the configured
/// session name and duration. Errors name the invalid field.
result<std::shared_ptr<CredentialsProvider>> make_credentials_provider(const AwsCredentialsConfig& cfg,
                                                                       const CredentialsContext& ctx,
                                                                       Diagnostics& diag);

}  // namespace ctsqs
