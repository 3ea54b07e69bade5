// AwsConfig: how ctsqs reaches AWS (credentials, roles, endpoints, TLS) as configuration values.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace ctsqs {

/// Credentials and roles, as the collector template's `credentials` section sets them.
/// Secrets here must never be printed; there is deliberately no operator<<.
struct AwsCredentialsConfig {
  std::string access_key_id;      ///< `aws_access_key_id`: static keys (optional; else the chain)
  std::string secret_access_key;  ///< `aws_secret_access_key`
  std::string profile;            ///< shared config profile (else AWS_PROFILE, else "default")
  std::string base_account_role;  ///< `aws_base_account_role`: assumed first (optional)
  std::string cross_account_role; ///< `aws_cross_account_role`: assumed on top (optional)
  std::string external_id;        ///< `aws_external_id` for the cross-account role
  std::string session_name = "ctsqs";             ///< RoleSessionName
  std::chrono::seconds session_duration{3600};    ///< DurationSeconds of AssumeRole
};

/// Endpoint and transport settings; empty strings mean "resolve the AWS default".
struct AwsEndpointConfig {
  std::string region;        ///< e.g. "us-east-1"; empty = from base_url / environment
  std::string sqs_endpoint;  ///< override, e.g. "http://127.0.0.1:4566" (also AWS_ENDPOINT_URL_SQS)
  std::string s3_endpoint;   ///< override (also AWS_ENDPOINT_URL_S3)
  std::string sts_endpoint;  ///< override (also AWS_ENDPOINT_URL_STS)
  bool use_fips = false;
  bool use_dualstack = false;
  bool s3_force_path_style = false;
  std::string ca_bundle;     ///< PEM file of extra trusted CAs (also AWS_CA_BUNDLE)
  bool verify_tls = true;    ///< TLS verification; on unless explicitly turned off
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{30000};  ///< per attempt, beyond any long-poll wait
  int max_attempts = 0;      ///< 0: AWS_MAX_ATTEMPTS, else the profile's max_attempts, else 3 (SDK default)
};

}  // namespace ctsqs
