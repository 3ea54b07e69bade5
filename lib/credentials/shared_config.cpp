// The shared config/credentials files: where they are, which profile is used, and the provider a
// profile's plan describes (static keys, credential_source, credential_process, roles).
#include "providers.hpp"

#include "ctsqs/aws/credentials/process.hpp"


namespace ctsqs {
namespace credentials_detail {

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

}  // namespace credentials_detail

using credentials_detail::config_file_path;
using credentials_detail::credentials_file_path;

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


}  // namespace ctsqs
