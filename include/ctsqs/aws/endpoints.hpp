// AWS endpoint resolution (pure): region → partition → service endpoint, FIPS/dual-stack,
// queue URL parsing, S3 virtual-hosted/path-style addressing and the SDKs' endpoint overrides.
#pragma once

#include "ctsqs/aws/config.hpp"
#include "ctsqs/environment.hpp"
#include "ctsqs/error.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ctsqs {

/// An AWS partition: a group of regions sharing a DNS suffix.
struct Partition {
  std::string_view name;                  ///< "aws", "aws-cn", "aws-us-gov", "aws-iso", ...
  std::string_view dns_suffix;            ///< "amazonaws.com", "amazonaws.com.cn", ...
  std::string_view dualstack_dns_suffix;  ///< "api.aws", ...; empty when there is no dual-stack
};

/// The partition of `region` by the AWS region-name patterns (`cn-*` → aws-cn, `us-gov-*` →
/// aws-us-gov, `us-iso-*` → aws-iso, `us-isob-*` → aws-iso-b, `eu-isoe-*` → aws-iso-e,
/// `us-isof-*` → aws-iso-f); any other region is in `aws`, as the SDKs assume for new regions.
const Partition& partition_for_region(std::string_view region) noexcept;

/// Whether `region` is a syntactically valid region name (a DNS label: a-z, 0-9, '-').
bool is_valid_region(std::string_view region) noexcept;

/// Services ctsqs talks to.
enum class AwsService { sqs, s3, sts, cloudtrail, dynamodb };

/// The lowercase signing/endpoint name: "sqs", "s3", "sts", "cloudtrail", "dynamodb".
std::string_view service_name(AwsService s) noexcept;

/// Where requests for one service go and how they are signed.
struct Endpoint {
  std::string scheme = "https";  ///< "https", or "http" for explicit endpoints only
  std::string host;              ///< host[:port], exactly the Host header
  std::string base_path;         ///< "" or a path prefix without trailing slash ("/custom")
  std::string signing_region;    ///< region for SigV4 (may be empty for a queue URL of an emulator)
  std::string signing_name;      ///< "sqs", "s3", "sts"
  bool custom = false;           ///< from an override or an emulator URL, not AWS's own host
  std::string source;  ///< "default", "config sqs_endpoint", "AWS_ENDPOINT_URL_SQS", "queue URL", ...

  /// "https://sqs.us-east-1.amazonaws.com" plus the base path.
  std::string url() const { return scheme + "://" + host + base_path; }
};

// Every resolver below fails with `client_errc::invalid_argument` and fills `diag.message` with
// what was wrong, naming the setting or URL (`config sqs_endpoint`, `AWS_ENDPOINT_URL_S3`,
// `queue URL '...'`, `AWS_REGION '...'`); callers that only want the value pass a Diagnostics
// they ignore.

/// The AWS endpoint of `service` in `region`, honouring `use_fips` and `use_dualstack`:
/// `https://{service}[-fips].{region}.{dns suffix}`, with dual-stack on the partition's
/// dual-stack suffix (`sqs.us-east-1.api.aws`), S3's `s3[-fips].dualstack.{region}.{suffix}`,
/// and GovCloud's SQS/STS hosts that are FIPS already. Errors when the region is invalid or
/// the partition has no dual-stack endpoints.
result<Endpoint> default_endpoint(AwsService service, std::string_view region, bool use_fips,
                                  bool use_dualstack, Diagnostics& diag);

/// Parses an endpoint override URL (`http(s)://host[:port][/prefix]`), as the SDKs accept
/// them: no user info, query or fragment. `field` names the setting in error messages.
result<Endpoint> parse_endpoint_url(std::string_view url, AwsService service,
                                    std::string_view region, std::string_view field,
                                    Diagnostics& diag);

/// The endpoint of `service`, the way the AWS SDKs pick it: the configuration's
/// `sqs_endpoint`/`s3_endpoint`/`sts_endpoint` (CloudTrail and DynamoDB have none), else `AWS_ENDPOINT_URL_<SERVICE>`, else
/// `AWS_ENDPOINT_URL`, else the AWS default for `region` (FIPS/dual-stack from the
/// configuration, or `AWS_USE_FIPS_ENDPOINT` / `AWS_USE_DUALSTACK_ENDPOINT` = true). Setting
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` ignores the environment overrides. Overrides may
/// use plain http (local emulators); AWS's own endpoints are always https.
result<Endpoint> resolve_endpoint(AwsService service, std::string_view region,
                                  const AwsEndpointConfig& cfg, const EnvLookup& env,
                                  Diagnostics& diag);

/// An SQS queue URL taken apart.
struct QueueUrl {
  std::string url;         ///< the URL as given
  std::string account_id;  ///< "123456789012"
  std::string queue_name;  ///< "my-queue" or "my-queue.fifo"
  std::string region;      ///< from the host when it names one; empty otherwise (emulators)
  Endpoint endpoint;       ///< where to send requests for this queue (see parse_queue_url)
  bool vpc_endpoint = false;  ///< an interface VPC endpoint (vpce-...)
};

/// Parses a queue URL in every real form: `https://sqs.<region>.amazonaws.com/<acct>/<q>`
/// (also `.amazonaws.com.cn`, `sqs-fips.`, dual-stack `sqs.<region>.api.aws`), the legacy
/// `https://<region>.queue.amazonaws.com/<acct>/<q>` and `https://queue.amazonaws.com/<acct>/<q>`
/// (us-east-1) — whose endpoint becomes the modern `sqs.<region>` host —, VPC endpoints
/// `https://vpce-....sqs.<region>.vpce.amazonaws.com/<acct>/<q>`, and emulators such as
/// `http://127.0.0.1:4566/<acct>/<q>` (region left empty unless the host names it, as in
/// `sqs.<region>.localhost.localstack.cloud`). AWS hosts must use https and a 12-digit account.
result<QueueUrl> parse_queue_url(std::string_view url, Diagnostics& diag);

/// The region to use: the configuration's, else the queue URL's, else `AWS_REGION`, else
/// `AWS_DEFAULT_REGION`. Errors when none is set or it is not a valid region name.
result<std::string> resolve_region(const AwsEndpointConfig& cfg, const QueueUrl* queue,
                                   const EnvLookup& env, Diagnostics& diag);

/// The SQS endpoint for a queue: an override (configuration or environment, as in
/// resolve_endpoint) wins; otherwise the endpoint the queue URL itself names.
result<Endpoint> resolve_sqs_endpoint(const QueueUrl& queue, std::string_view region,
                                      const AwsEndpointConfig& cfg, const EnvLookup& env,
                                      Diagnostics& diag);

/// Where one S3 object is requested.
struct S3ObjectTarget {
  std::string scheme;
  std::string host;  ///< "bucket.s3.us-east-1.amazonaws.com" or the endpoint's host (path style)
  std::string path;  ///< URI-encoded: "/key" (virtual-hosted) or "/bucket/key" (path style)
  bool virtual_hosted = false;
};

/// Whether `bucket` can be a DNS label prefix of the S3 host: 3–63 of a-z 0-9 '-', starting and
/// ending with a letter or digit, not an IP address; dots only over plain http (TLS wildcard
/// certificates do not cover them).
bool is_virtual_hostable_bucket(std::string_view bucket, bool https) noexcept;

/// The request target of `bucket`/`key` at endpoint `s3`: virtual-hosted
/// (`bucket.<host>/<key>`) unless `force_path_style`, the bucket is not virtual-hostable, or
/// the endpoint host is an IP address or `localhost` (emulators); then path style
/// (`<host>/<bucket>/<key>`). The key is URI-encoded byte by byte, keeping '/'.
S3ObjectTarget s3_object_target(const Endpoint& s3, std::string_view bucket, std::string_view key,
                                bool force_path_style);

}  // namespace ctsqs
