// Shared AWS config/credentials file parsing and profile credential plans.
#include "ctsqs/aws/credentials/profile_file.hpp"

#include "../detail/text.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace ctsqs {
namespace {

using detail::lower;
using detail::trim;

std::string_view strip_inline_comment(std::string_view v) {
  for (std::size_t i = 1; i < v.size(); ++i)
    if ((v[i] == '#' || v[i] == ';') && std::isspace(static_cast<unsigned char>(v[i - 1])))
      return trim(v.substr(0, i));
  return v;
}

const std::string* get(const ProfileSettings& p, std::string_view key) {
  auto it = p.find(key);
  return it == p.end() || it->second.empty() ? nullptr : &it->second;
}

}  // namespace

result<void> parse_shared_config_file(std::string_view text, bool is_config_file,
                                      std::string_view source, SharedConfig& into, Diagnostics& diag) {
  ProfileSettings* current = nullptr;
  bool skipping = false;  // inside a section we do not use
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    auto where = [&] { return std::string(source) + ":" + std::to_string(line_no); };
    if (line.front() == '[') {
      auto close = line.find(']');
      if (close == std::string_view::npos) {
        diag.message = where() + ": section header without ']'";
        return make_error_code(client_errc::invalid_argument);
      }
      std::string_view name = trim(line.substr(1, close - 1));
      std::string_view rest = trim(line.substr(close + 1));
      if (!rest.empty() && rest.front() != '#' && rest.front() != ';') {
        diag.message = where() + ": unexpected text after section header";
        return make_error_code(client_errc::invalid_argument);
      }
      skipping = false;
      std::string profile;
      if (is_config_file) {
        if (name == "default") profile = "default";
        else if (name.starts_with("profile") && name.size() > 7 &&
                 std::isspace(static_cast<unsigned char>(name[7])))
          profile = std::string(trim(name.substr(7)));
        else skipping = true;  // [sso-session x], [services x], or malformed: not profiles
      } else {
        profile = std::string(name);
      }
      if (!skipping && profile.empty()) {
        diag.message = where() + ": empty profile name";
        return make_error_code(client_errc::invalid_argument);
      }
      current = skipping ? nullptr : &into.profiles[profile];
      continue;
    }
    // Indented lines continue a sub-property block ("s3 =\n  max_concurrent_requests = 10").
    if (std::isspace(static_cast<unsigned char>(raw.front()))) continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      diag.message = where() + ": expected 'key = value'";
      return make_error_code(client_errc::invalid_argument);
    }
    if (skipping) continue;
    if (!current) {
      diag.message = where() + ": setting outside of any profile section";
      return make_error_code(client_errc::invalid_argument);
    }
    std::string key = lower(trim(line.substr(0, eq)));
    std::string_view value = strip_inline_comment(trim(line.substr(eq + 1)));
    if (key.empty()) {
      diag.message = where() + ": empty key";
      return make_error_code(client_errc::invalid_argument);
    }
    // The credentials file wins over the config file: parse config first, credentials second.
    (*current)[key] = std::string(value);
  }
  return {};
}

result<ProfilePlan> plan_profile(const SharedConfig& cfg, std::string_view profile, Diagnostics& diag) {
  ProfilePlan plan;
  plan.profile = std::string(profile);
  std::vector<RoleStep> roles_outer_first;
  std::set<std::string, std::less<>> visited;
  std::string name(profile);
  for (;;) {
    auto it = cfg.profiles.find(name);
    if (it == cfg.profiles.end()) {
      diag.message = name == profile ? "profile '" + name + "' not found in the shared config/credentials files"
                                     : "source_profile '" + name + "' (used by profile '" +
                                           std::string(profile) + "') not found";
      return make_error_code(client_errc::invalid_argument);
    }
    const ProfileSettings& p = it->second;
    const bool revisit = visited.count(name) > 0;
    visited.insert(name);
    const std::string* role_arn = get(p, "role_arn");
    const std::string* akid = get(p, "aws_access_key_id");
    const std::string* secret = get(p, "aws_secret_access_key");
    auto use_static = [&]() -> result<void> {
      if (!akid || !secret) {
        diag.message = "profile '" + name + "' has " + (akid ? "no aws_secret_access_key" : "no aws_access_key_id");
        return make_error_code(client_errc::invalid_argument);
      }
      plan.source = ProfileSource::static_keys;
      plan.source_profile = name;
      plan.static_keys.access_key_id = *akid;
      plan.static_keys.secret_access_key = *secret;
      if (auto t = get(p, "aws_session_token")) plan.static_keys.session_token = *t;
      plan.static_keys.provider = "profile " + name;
      return {};
    };
    if (revisit) {
      // A profile that is its own source_profile uses its own static keys (SDK behaviour);
      // any other repetition is a cycle.
      if (akid && secret && !roles_outer_first.empty() && roles_outer_first.back().from == "profile " + name) {
        if (auto r = use_static(); !r) return r.error();
        break;
      }
      diag.message = "profile '" + std::string(profile) + "': source_profile chain loops at '" + name + "'";
      return make_error_code(client_errc::invalid_argument);
    }
    if (role_arn) {
      const std::string* token_file = get(p, "web_identity_token_file");
      const std::string* source_profile = get(p, "source_profile");
      const std::string* credential_source = get(p, "credential_source");
      if (token_file && !source_profile && !credential_source) {
        plan.source = ProfileSource::web_identity;
        plan.source_profile = name;
        plan.web_identity_token_file = *token_file;
        plan.web_identity_role_arn = *role_arn;
        if (auto s = get(p, "role_session_name")) plan.web_identity_session_name = *s;
        break;
      }
      RoleStep step;
      step.role_arn = *role_arn;
      if (auto e = get(p, "external_id")) step.external_id = *e;
      if (auto s = get(p, "role_session_name")) step.session_name = *s;
      if (auto d = get(p, "duration_seconds")) {
        try {
          step.duration = std::chrono::seconds(std::stoll(*d));
        } catch (...) {
          diag.message = "profile '" + name + "': duration_seconds '" + *d + "' is not a number";
          return make_error_code(client_errc::invalid_argument);
        }
      }
      step.from = "profile " + name;
      roles_outer_first.push_back(step);
      if (source_profile && credential_source) {
        diag.message = "profile '" + name + "' sets both source_profile and credential_source";
        return make_error_code(client_errc::invalid_argument);
      }
      if (credential_source) {
        std::string cs = *credential_source;
        if (cs == "Environment") plan.source = ProfileSource::environment;
        else if (cs == "Ec2InstanceMetadata") plan.source = ProfileSource::ec2_metadata;
        else if (cs == "EcsContainer") plan.source = ProfileSource::ecs_container;
        else {
          diag.message = "profile '" + name + "': credential_source '" + cs +
                         "' is not one of Environment, Ec2InstanceMetadata, EcsContainer";
          return make_error_code(client_errc::invalid_argument);
        }
        plan.source_profile = name;
        break;
      }
      if (!source_profile) {
        diag.message = "profile '" + name + "' has role_arn but neither source_profile nor credential_source";
        return make_error_code(client_errc::invalid_argument);
      }
      name = *source_profile;
      continue;
    }
    if (akid || secret) {
      if (auto r = use_static(); !r) return r.error();
      break;
    }
    if (auto proc = get(p, "credential_process")) {
      if (proc->empty()) {
        diag.message = "profile '" + name + "': credential_process is empty";
        return make_error_code(client_errc::invalid_argument);
      }
      plan.source = ProfileSource::process;
      plan.process_command = *proc;
      plan.source_profile = name;
      break;
    }
    if (get(p, "sso_start_url") || get(p, "sso_session")) {
      diag.message = "profile '" + name + "' uses AWS SSO, which ctsqs does not support; use a role or static keys";
      return make_error_code(client_errc::invalid_argument);
    }
    diag.message = "profile '" + name + "' has no credentials (no aws_access_key_id, role_arn, credential_source or credential_process)";
    return make_error_code(client_errc::invalid_argument);
  }
  plan.roles.assign(roles_outer_first.rbegin(), roles_outer_first.rend());
  return plan;
}

}  // namespace ctsqs
