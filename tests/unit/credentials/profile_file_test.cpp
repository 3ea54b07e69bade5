// Unit tests for shared config/credentials file parsing and profile plans.
#include "ctsqs/aws/credentials/profile_file.hpp"

#include "catch.hpp"
#include "../catch_result.hpp"

using namespace ctsqs;

namespace {
SharedConfig load(std::string_view config, std::string_view credentials) {
  SharedConfig cfg;
  Diagnostics d;
  REQUIRE(parse_shared_config_file(config, true, "config", cfg, d));
  REQUIRE(parse_shared_config_file(credentials, false, "credentials", cfg, d));
  return cfg;
}
}  // namespace

TEST_CASE("shared files: sections, comments, case, sub-properties, precedence", "[profile]") {
  auto cfg = load(
      "# comment\n[default]\nregion = eu-west-1 ; trailing comment\n"
      "[profile dev]\nRole_Arn = arn:aws:iam::111122223333:role/dev\nsource_profile = default\n"
      "s3 =\n  max_concurrent_requests = 10\n[sso-session corp]\nsso_region = us-east-1\n"
      "[services x]\nsqs =\n  endpoint_url = http://localhost\n",
      "[default]\r\naws_access_key_id = AKIDEXAMPLE\r\naws_secret_access_key = se#cret\r\n"
      "region = us-east-2\n");
  REQUIRE(cfg.has("default"));
  REQUIRE(cfg.has("dev"));
  CHECK_FALSE(cfg.has("corp"));
  CHECK_FALSE(cfg.has("x"));
  const auto& def = cfg.profiles.at("default");
  CHECK(def.at("region") == "us-east-2");  // the credentials file wins
  CHECK(def.at("aws_secret_access_key") == "se#cret");  // '#' inside a value is kept
  CHECK(cfg.profiles.at("dev").at("role_arn") == "arn:aws:iam::111122223333:role/dev");
  CHECK(cfg.profiles.at("dev").count("max_concurrent_requests") == 0);
}

TEST_CASE("shared files: malformed lines are errors naming file and line", "[profile]") {
  SharedConfig cfg;
  Diagnostics d;
  CHECK_FALSE(parse_shared_config_file("[default\nx=1\n", true, "/home/u/.aws/config", cfg, d));
  CHECK(d.message == "/home/u/.aws/config:1: section header without ']'");
  CHECK_FALSE(parse_shared_config_file("[default]\njunk line\n", false, "creds", cfg, d));
  CHECK(d.message == "creds:2: expected 'key = value'");
  CHECK_FALSE(parse_shared_config_file("key = before section\n", false, "creds", cfg, d));
  CHECK(d.message.find("outside of any profile") != std::string::npos);
}

TEST_CASE("profile plan: static keys with a session token", "[profile]") {
  auto cfg = load("", "[p]\naws_access_key_id=AK\naws_secret_access_key=SK\naws_session_token=TOK\n");
  Diagnostics d;
  auto plan = plan_profile(cfg, "p", d);
  REQUIRE(plan);
  CHECK(plan->source == ProfileSource::static_keys);
  CHECK(plan->static_keys.access_key_id == "AK");
  CHECK(plan->static_keys.session_token == "TOK");
  CHECK(plan->roles.empty());
}

TEST_CASE("profile plan: role chain through source_profile with external id", "[profile]") {
  auto cfg = load(
      "[profile top]\nrole_arn = arn:aws:iam::222:role/cross\nsource_profile = mid\nexternal_id = ext-1\n"
      "role_session_name = sess\nduration_seconds = 1800\n"
      "[profile mid]\nrole_arn = arn:aws:iam::111:role/base\nsource_profile = base\n",
      "[base]\naws_access_key_id = AK\naws_secret_access_key = SK\n");
  Diagnostics d;
  auto plan = plan_profile(cfg, "top", d);
  REQUIRE(plan);
  CHECK(plan->source == ProfileSource::static_keys);
  CHECK(plan->source_profile == "base");
  REQUIRE(plan->roles.size() == 2);
  CHECK(plan->roles[0].role_arn == "arn:aws:iam::111:role/base");  // assumed first
  CHECK(plan->roles[1].role_arn == "arn:aws:iam::222:role/cross");
  CHECK(plan->roles[1].external_id == "ext-1");
  CHECK(plan->roles[1].session_name == "sess");
  CHECK(plan->roles[1].duration == std::chrono::seconds(1800));
}

TEST_CASE("profile plan: credential_source, web identity, self reference", "[profile]") {
  auto cfg = load(
      "[profile ec2]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\n"
      "[profile ecs]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = EcsContainer\n"
      "[profile env]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n"
      "[profile bad]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Laptop\n"
      "[profile web]\nrole_arn = arn:aws:iam::1:role/web\nweb_identity_token_file = /var/run/token\n"
      "[profile self]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = self\n"
      "aws_access_key_id = AK\naws_secret_access_key = SK\n",
      "");
  Diagnostics d;
  CHECK(plan_profile(cfg, "ec2", d)->source == ProfileSource::ec2_metadata);
  CHECK(plan_profile(cfg, "ecs", d)->source == ProfileSource::ecs_container);
  CHECK(plan_profile(cfg, "env", d)->source == ProfileSource::environment);
  CHECK(plan_profile(cfg, "ec2", d)->roles.size() == 1);
  CHECK_FALSE(plan_profile(cfg, "bad", d));
  CHECK(d.message.find("Laptop") != std::string::npos);
  auto web = plan_profile(cfg, "web", d);
  REQUIRE(web);
  CHECK(web->source == ProfileSource::web_identity);
  CHECK(web->web_identity_token_file == "/var/run/token");
  CHECK(web->roles.empty());
  auto self = plan_profile(cfg, "self", d);
  REQUIRE(self);
  CHECK(self->source == ProfileSource::static_keys);
  CHECK(self->roles.size() == 1);
}

TEST_CASE("profile plan: loops, missing profiles and unsupported sources are clear errors", "[profile]") {
  auto cfg = load(
      "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
      "[profile orphan]\nrole_arn = arn:aws:iam::1:role/o\nsource_profile = nowhere\n"
      "[profile sso]\nsso_session = corp\n"
      "[profile half]\naws_access_key_id = AK\n"
      "[profile norole]\nrole_arn = arn:aws:iam::1:role/x\n",
      "");
  Diagnostics d;
  CHECK_FALSE(plan_profile(cfg, "a", d));
  CHECK(d.message.find("loops") != std::string::npos);
  CHECK_FALSE(plan_profile(cfg, "orphan", d));
  CHECK(d.message.find("'nowhere'") != std::string::npos);
  CHECK_FALSE(plan_profile(cfg, "sso", d));
  CHECK(d.message.find("SSO") != std::string::npos);
  CHECK_FALSE(plan_profile(cfg, "half", d));
  CHECK(d.message.find("aws_secret_access_key") != std::string::npos);
  CHECK_FALSE(plan_profile(cfg, "norole", d));
  CHECK(d.message.find("source_profile") != std::string::npos);
  CHECK_FALSE(plan_profile(cfg, "missing", d));
  CHECK(d.message.find("'missing' not found") != std::string::npos);
}
