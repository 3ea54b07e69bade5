// The default credentials chain (environment, web identity, profile, ECS, IMDSv2) and the
// configured credentials with the template's roles on top. Each source is a file of its own:
// environment.cpp, web_identity.cpp, shared_config.cpp, ecs.cpp, imds.cpp, assume_role.cpp.
#include "ctsqs/aws/credentials/chain.hpp"

#include "providers.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <mutex>

namespace ctsqs {
namespace {

namespace asio = boost::asio;
using namespace credentials_detail;

/// Picks the first configured source at the first call and keeps it.
class ChainProvider final : public CredentialsProvider {
 public:
  ChainProvider(CredentialsContext ctx, std::string profile) : ctx_(std::move(ctx)), profile_(std::move(profile)) {}

  asio::awaitable<result<Credentials>> async_get(Diagnostics& diag) override {
    std::shared_ptr<CredentialsProvider> chosen;
    {
      std::lock_guard lock(mu_);
      if (!chosen_) {
        auto sel = select(diag);
        if (!sel) co_return sel.error();
        chosen_ = std::move(*sel);
      }
      chosen = chosen_;
    }
    auto r = co_await chosen->async_get(diag);
    if (!r && chosen->describe() == "ec2-instance-metadata")
      diag.message = "no AWS credentials found (tried " + tried_ + "; EC2 instance metadata: " + diag.message + ")";
    co_return r;
  }

  void invalidate() noexcept override {
    std::lock_guard lock(mu_);
    if (chosen_) chosen_->invalidate();
  }

  std::string describe() const override {
    std::lock_guard lock(mu_);
    return chosen_ ? chosen_->describe() : "default chain (not resolved yet)";
  }

 private:
  result<std::shared_ptr<CredentialsProvider>> select(Diagnostics& diag) {
    const EnvLookup& env = ctx_.env;
    if (auto c = env_keys(env)) return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentialsProvider>(*c));
    tried_ = "environment";
    auto token_file = env_value(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
    auto role = env_value(env, "AWS_ROLE_ARN");
    if (token_file && role)
      return make_web_identity_provider(ctx_, *token_file, *role, env_value(env, "AWS_ROLE_SESSION_NAME").value_or(""));
    tried_ += ", web identity";

    // Shared files.
    const bool explicit_profile = !profile_.empty() || env_value(env, "AWS_PROFILE") ||
                                  env_value(env, "AWS_DEFAULT_PROFILE");
    const std::string profile = effective_profile_name(env, profile_);
    auto loaded = load_shared_config(env, ctx_.read_file, diag);
    if (!loaded) return loaded.error();
    const SharedConfig& files = *loaded;
    CredentialsContext ctx = ctx_;
    const auto settings = files.profiles.find(profile);
    if (settings != files.profiles.end()) {
      if (auto v = settings->second.find("ec2_metadata_v1_disabled");
          v != settings->second.end() && is_true(v->second))
        ctx.ec2_metadata_v1_disabled_by = profile;
    }
    // The default profile may hold settings only (a region, IMDS options: common on EC2): the
    // chain then goes on, as the SDKs do. A profile named explicitly must give credentials.
    if (settings != files.profiles.end() && (explicit_profile || has_credential_settings(settings->second))) {
      auto plan = plan_profile(files, profile, diag);
      if (!plan) return plan.error();
      auto p = provider_from_plan(ctx, *plan, diag);
      if (!p) return p.error();
      return std::shared_ptr<CredentialsProvider>(std::make_shared<DescribedProvider>(
          std::move(*p), "profile " + profile));
    }
    if (explicit_profile && settings == files.profiles.end()) {
      diag.message = "profile '" + profile + "' not found in the shared config/credentials files (" +
                     shared_file_paths(env) + ")";
      return make_error_code(client_errc::invalid_argument);
    }
    tried_ += ", profile " + profile + (settings != files.profiles.end() ? " (no credentials in it)" : "");

    if (env_value(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env_value(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
      return make_ecs_provider(ctx);
    tried_ += ", ECS container";

    if (is_true(env_value(env, "AWS_EC2_METADATA_DISABLED"))) {
      diag.message = "no AWS credentials found (tried " + tried_ +
                     "; EC2 instance metadata is disabled by AWS_EC2_METADATA_DISABLED)";
      return make_error_code(client_errc::invalid_argument);
    }
    return make_imds_provider(ctx);
  }

  /// Prefixes a provider's description ("profile dev: assume-role ...").
  class DescribedProvider final : public CredentialsProvider {
   public:
    DescribedProvider(std::shared_ptr<CredentialsProvider> inner, std::string prefix)
        : inner_(std::move(inner)), prefix_(std::move(prefix)) {}
    asio::awaitable<result<Credentials>> async_get(Diagnostics& diag) override { return inner_->async_get(diag); }
    void invalidate() noexcept override { inner_->invalidate(); }
    std::string describe() const override {
      auto inner = inner_->describe();
      return inner.starts_with(prefix_) ? inner : prefix_ + ": " + inner;
    }

   private:
    std::shared_ptr<CredentialsProvider> inner_;
    std::string prefix_;
  };

  CredentialsContext ctx_;
  std::string profile_;
  mutable std::mutex mu_;
  std::shared_ptr<CredentialsProvider> chosen_;
  std::string tried_;
};

}  // namespace

std::shared_ptr<CredentialsProvider> make_default_chain(const CredentialsContext& ctx_in, std::string profile) {
  CredentialsContext ctx = ctx_in;
  if (!ctx.read_file) ctx.read_file = real_file_reader();
  if (!ctx.clock) ctx.clock = system_wall_clock();
  return std::make_shared<ChainProvider>(std::move(ctx), std::move(profile));
}

result<std::shared_ptr<CredentialsProvider>> make_credentials_provider(const AwsCredentialsConfig& cfg,
                                                                       const CredentialsContext& ctx_in,
                                                                       Diagnostics& diag) {
  CredentialsContext ctx = ctx_in;
  if (!ctx.read_file) ctx.read_file = real_file_reader();
  if (!ctx.clock) ctx.clock = system_wall_clock();
  if (!ctx.http) {
    diag.message = "credentials: no HTTP client";
    return make_error_code(client_errc::invalid_argument);
  }
  std::shared_ptr<CredentialsProvider> base;
  if (!cfg.access_key_id.empty() || !cfg.secret_access_key.empty()) {
    if (cfg.access_key_id.empty() || cfg.secret_access_key.empty()) {
      diag.message = cfg.access_key_id.empty() ? "credentials: aws_secret_access_key is set but aws_access_key_id is not"
                                               : "credentials: aws_access_key_id is set but aws_secret_access_key is not";
      return make_error_code(client_errc::invalid_argument);
    }
    Credentials c;
    c.access_key_id = cfg.access_key_id;
    c.secret_access_key = cfg.secret_access_key;
    c.provider = "static configuration";
    base = std::make_shared<StaticCredentialsProvider>(std::move(c));
  } else {
    base = make_default_chain(ctx, cfg.profile);
  }
  auto add_role = [&](const std::string& arn, const std::string& external_id, const char* field) -> result<void> {
    sts::AssumeRoleParams p;
    p.role_arn = arn;
    p.external_id = external_id;
    p.session_name = cfg.session_name;
    p.duration = cfg.session_duration;
    if (auto v = sts::validate(p, diag); !v) {
      diag.message = std::string("credentials: ") + field + ": " + diag.message;
      return v.error();
    }
    base = make_assume_role_provider(ctx, std::move(base), std::move(p));
    return {};
  };
  if (!cfg.base_account_role.empty())
    if (auto r = add_role(cfg.base_account_role, "", "aws_base_account_role"); !r) return r.error();
  if (!cfg.cross_account_role.empty()) {
    if (auto r = add_role(cfg.cross_account_role, cfg.external_id, "aws_cross_account_role"); !r) return r.error();
  } else if (!cfg.external_id.empty()) {
    diag.message = "credentials: aws_external_id is set but aws_cross_account_role is not";
    return make_error_code(client_errc::invalid_argument);
  }
  return base;
}

}  // namespace ctsqs
