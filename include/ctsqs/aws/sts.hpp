// STS protocol (pure, sans-I/O): AssumeRole, AssumeRoleWithWebIdentity and GetCallerIdentity
// request builders (query protocol, form-encoded POST) and XML response parsers.
// Wire format: AWS STS API Reference, "Common Parameters" and each action's "Response Elements".
#pragma once

#include "ctsqs/aws/credentials.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs::sts {

/// Where STS requests go: scheme, host[:port] and an optional base path ("" or "/prefix").
struct StsTarget {
  std::string scheme = "https";
  std::string host;       ///< e.g. "sts.eu-west-1.amazonaws.com"
  std::string base_path;  ///< usually empty
};

/// AssumeRole parameters.
struct AssumeRoleParams {
  std::string role_arn;
  std::string session_name = "ctsqs";  ///< RoleSessionName (2-64 of [\w+=,.@-])
  std::chrono::seconds duration{3600}; ///< DurationSeconds (900 .. the role's maximum)
  std::string external_id;             ///< ExternalId; empty = not sent
};

/// AssumeRoleWithWebIdentity parameters (the request is not signed).
struct AssumeRoleWithWebIdentityParams {
  std::string role_arn;
  std::string session_name = "ctsqs";
  std::chrono::seconds duration{3600};
  std::string web_identity_token;  ///< the OIDC token (a secret: never printed)
};

/// Percent-encoding of application/x-www-form-urlencoded values the way AWS query APIs expect
/// (RFC 3986 unreserved characters kept, everything else %XX).
std::string form_encode(std::string_view s);

/// Validates the parameters (role ARN shape, session name characters and length, duration
/// 900..43200 s, external id 2..1224 chars); the message names the field.
result<void> validate(const AssumeRoleParams& p, Diagnostics& diag);

/// POST / with Action=AssumeRole&Version=2011-06-15&RoleArn=...&RoleSessionName=...
/// &DurationSeconds=...[&ExternalId=...], Content-Type form-urlencoded. Sign it for "sts".
HttpRequest make_assume_role_request(const StsTarget& target, const AssumeRoleParams& p);

/// POST / with Action=AssumeRoleWithWebIdentity...; sent unsigned.
HttpRequest make_assume_role_with_web_identity_request(const StsTarget& target,
                                                       const AssumeRoleWithWebIdentityParams& p);

/// POST / with Action=GetCallerIdentity&Version=2011-06-15. Sign it for "sts".
HttpRequest make_get_caller_identity_request(const StsTarget& target);

/// The credentials and identity of an assumed role.
struct AssumedRole {
  Credentials credentials;     ///< with expiration; provider left empty for the caller to set
  std::string assumed_role_arn;  ///< AssumedRoleUser/Arn
  std::string assumed_role_id;   ///< AssumedRoleUser/AssumedRoleId
};

/// Parses a 200 AssumeRoleResponse or AssumeRoleWithWebIdentityResponse. Errors
/// (aws_errc::unexpected_response) name the missing element; nothing secret in `diag`.
result<AssumedRole> parse_assume_role_response(const HttpResponse& response, Diagnostics& diag);

/// GetCallerIdentity's answer.
struct CallerIdentity {
  std::string account;  ///< 12-digit account id
  std::string arn;      ///< e.g. "arn:aws:sts::123456789012:assumed-role/Role/session"
  std::string user_id;
};

/// Parses a 200 GetCallerIdentityResponse.
result<CallerIdentity> parse_get_caller_identity_response(const HttpResponse& response,
                                                          Diagnostics& diag);

/// The latest instant parse_iso8601 returns. Later dates are clamped to it: some
/// credential_process helpers answer 9999-12-31T23:59:59Z for keys that never expire, and
/// system_clock (nanoseconds in 64 bits) cannot represent years after 2262.
inline constexpr std::chrono::sys_seconds far_future{
    std::chrono::sys_days{std::chrono::year{2200} / std::chrono::January / 1}};

/// Parses an ISO 8601 UTC timestamp as STS, ECS and IMDS write it
/// ("2026-11-28T20:15:00Z", optional fractional seconds, "Z" or "+00:00"). A date after
/// `far_future` is clamped to it. Errors (aws_errc::malformed_response): not such a timestamp,
/// or a date before 1970; `diag` says which, without quoting the text (callers name the field).
result<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text, Diagnostics& diag);

}  // namespace ctsqs::sts
