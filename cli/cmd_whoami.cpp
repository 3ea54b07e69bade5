// `ctsqs whoami`: prints the AWS identity the credentials chain and roles resolve to (STS
// GetCallerIdentity), which provider and roles were used, and never a secret.
#include "command.hpp"

#include "ctsqs/aws/client.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/collector/config.hpp"
#include "ctsqs/aws/endpoints.hpp"

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <optional>

namespace ctsqs::cli {
namespace {

struct WhoamiOptions {
  std::string config;
  std::string region;
  std::string endpoint_url;
  std::string role_arn;
  std::string base_role_arn;
  std::string external_id;
  std::string profile;
  std::string session_name;
  long duration = 0;
  std::string ca_bundle;
  bool no_verify_tls = false;
};

int run_whoami(const WhoamiOptions& o) {
  // The library's client of a collector file (or of no file: the AWS chain and defaults).
  CollectorConfig cfg;
  if (!o.config.empty()) {
    Diagnostics diag;
    ConfigParseOptions po;
    po.validate = false;  // whoami needs only the credentials and endpoints
    auto loaded = load_collector_config(o.config, diag, po);
    if (!loaded) {
      std::cerr << "ctsqs whoami: " << diag.message << "\n";
      return exit_usage;
    }
    cfg = std::move(*loaded);
  }
  AwsCredentialsConfig& credentials = cfg.credentials;
  AwsEndpointConfig& endpoints = cfg.aws;
  // Flags override the file.
  if (!o.region.empty()) endpoints.region = o.region;
  if (!o.endpoint_url.empty()) endpoints.sts_endpoint = o.endpoint_url;
  if (!o.role_arn.empty()) credentials.cross_account_role = o.role_arn;
  if (!o.base_role_arn.empty()) credentials.base_account_role = o.base_role_arn;
  if (!o.external_id.empty()) credentials.external_id = o.external_id;
  if (!o.profile.empty()) credentials.profile = o.profile;
  if (!o.session_name.empty()) credentials.session_name = o.session_name;
  if (o.duration > 0) credentials.session_duration = std::chrono::seconds(o.duration);
  if (!o.ca_bundle.empty()) endpoints.ca_bundle = o.ca_bundle;
  if (o.no_verify_tls) endpoints.verify_tls = false;

  boost::asio::io_context io;
  Diagnostics diag;
  auto made = make_aws_client(cfg, io.get_executor(), AssemblyOptions{}, diag);
  if (!made) {
    std::cerr << "ctsqs whoami: " << diag.message << "\n";
    return exit_usage;
  }
  std::unique_ptr<AwsClient> client = std::move(*made);
  result<sts::CallerIdentity> id = make_error_code(client_errc::cancelled);
  async_get_caller_identity(*client, diag, [&id](error_code ec, sts::CallerIdentity r) {
    if (ec)
      id = ec;
    else
      id = std::move(r);
  });
  io.run();
  if (!id) {
    std::cerr << "ctsqs whoami: " << to_string(diag) << "\n";
    std::cerr << "ctsqs whoami: credentials: " << client->credentials().describe() << "\n";
    return exit_bad_input;
  }
  std::cout << "Account:     " << id->account << "\n"
            << "Arn:         " << id->arn << "\n"
            << "UserId:      " << id->user_id << "\n"
            << "Credentials: " << client->credentials().describe() << "\n";
  if (!client->region().empty()) std::cout << "Region:      " << client->region() << "\n";
  return exit_ok;
}

std::function<int()> setup_whoami(CLI::App& sub) {
  auto o = std::make_shared<WhoamiOptions>();
  sub.add_option("--config", o->config, "Collector file; its credentials, roles and endpoints are used");
  sub.add_option("--region", o->region, "AWS region (else the file's, AWS_REGION, AWS_DEFAULT_REGION)");
  sub.add_option("--endpoint-url", o->endpoint_url, "STS endpoint override (e.g. a local emulator)");
  sub.add_option("--role-arn", o->role_arn, "Cross-account role to assume (aws_cross_account_role)");
  sub.add_option("--base-role-arn", o->base_role_arn, "Role assumed first (aws_base_account_role)");
  sub.add_option("--external-id", o->external_id, "External id for the cross-account role");
  sub.add_option("--profile", o->profile, "Shared config profile (else AWS_PROFILE, else default)");
  sub.add_option("--session-name", o->session_name, "RoleSessionName for AssumeRole");
  sub.add_option("--duration", o->duration, "DurationSeconds for AssumeRole (900..43200)");
  sub.add_option("--ca-bundle", o->ca_bundle, "PEM file of extra trusted CAs (also AWS_CA_BUNDLE)");
  sub.add_flag("--no-verify-tls", o->no_verify_tls, "Do not verify TLS certificates (never in production)");
  return [o] { return run_whoami(*o); };
}

const bool registered = register_command(
    "whoami", "Print the AWS identity the credentials chain and roles resolve to (never a secret)",
    &setup_whoami);

}  // namespace
}  // namespace ctsqs::cli
