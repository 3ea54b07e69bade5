// Shared AWS config and credentials files (~/.aws/config, ~/.aws/credentials): parsing and the
// plan of how a profile yields credentials (static keys, roles, credential sources). Pure.
#pragma once

#include "ctsqs/aws/credentials.hpp"
#include "ctsqs/error.hpp"

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {

/// One profile's settings (keys lowercased).
using ProfileSettings = std::map<std::string, std::string, std::less<>>;

/// The profiles of the shared files, credentials-file values overriding config-file values.
struct SharedConfig {
  std::map<std::string, ProfileSettings, std::less<>> profiles;
  bool has(std::string_view name) const { return profiles.find(name) != profiles.end(); }
};

/// Parse an INI file of the shared-config format. In the config file (`is_config_file`)
/// sections are `[default]` and `[profile NAME]` (other section kinds are skipped); in the
/// credentials file `[NAME]`. Comments start with '#' or ';' at the start of a line or after
/// whitespace; indented lines continue a sub-property block and are skipped. `source` names the
/// file in error messages; malformed lines are errors naming file and line.
result<void> parse_shared_config_file(std::string_view text, bool is_config_file,
                                      std::string_view source, SharedConfig& into, Diagnostics& diag);

/// One AssumeRole step of a profile (or of the template's roles).
struct RoleStep {
  std::string role_arn;
  std::string external_id;
  std::string session_name;              ///< empty: the default session name
  std::chrono::seconds duration{0};      ///< 0: the default duration
  std::string from;                      ///< where it was configured, e.g. "profile dev"
};

/// Where a profile's base credentials come from.
enum class ProfileSource {
  static_keys,     ///< aws_access_key_id / aws_secret_access_key [/ aws_session_token]
  environment,     ///< credential_source = Environment
  ec2_metadata,    ///< credential_source = Ec2InstanceMetadata
  ecs_container,   ///< credential_source = EcsContainer
  web_identity,    ///< web_identity_token_file + role_arn in the profile
  process,         ///< credential_process = command
};

/// How a profile yields credentials: a base source, then zero or more roles (outermost last).
struct ProfilePlan {
  std::string profile;  ///< the profile asked for
  ProfileSource source = ProfileSource::static_keys;
  std::string source_profile;  ///< the profile that holds the static keys / source
  Credentials static_keys;     ///< for static_keys (secret: never printed)
  std::string web_identity_token_file;
  std::string web_identity_role_arn;
  std::string web_identity_session_name;
  std::string process_command;  ///< for process: the credential_process command line
  std::vector<RoleStep> roles;  ///< applied in order
};

/// Resolve `profile` the way the AWS SDKs do: `role_arn` with `source_profile` (chained, cycles
/// detected; a profile naming itself uses its own keys) or `credential_source`, or
/// `web_identity_token_file`; else static keys. Errors name the profile and the missing or
/// unsupported setting (SSO profiles are not supported).
result<ProfilePlan> plan_profile(const SharedConfig& cfg, std::string_view profile, Diagnostics& diag);

}  // namespace ctsqs
