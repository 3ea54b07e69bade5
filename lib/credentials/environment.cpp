// Credentials from the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
#include "ctsqs/aws/credentials/provider.hpp"

#include "providers.hpp"

namespace ctsqs {

std::optional<Credentials> credentials_from_environment(const EnvLookup& env) {
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

namespace credentials_detail {

std::optional<Credentials> env_keys(const EnvLookup& env) { return credentials_from_environment(env); }

}  // namespace credentials_detail
}  // namespace ctsqs
