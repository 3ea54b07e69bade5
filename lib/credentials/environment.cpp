// Credentials from the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
#include "providers.hpp"

namespace ctsqs::credentials_detail {

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

}  // namespace ctsqs::credentials_detail
