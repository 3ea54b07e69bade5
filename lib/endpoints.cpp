// AWS endpoint resolution: partitions, service hosts, overrides, queue URLs and S3 addressing.
#include "ctsqs/aws/endpoints.hpp"

#include "detail/text.hpp"

#include "ctsqs/aws/sigv4/canonical_request.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace ctsqs {
namespace {

constexpr std::array<Partition, 7> partitions = {{
    {"aws", "amazonaws.com", "api.aws"},
    {"aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn"},
    {"aws-us-gov", "amazonaws.com", "api.aws"},
    {"aws-iso", "c2s.ic.gov", ""},
    {"aws-iso-b", "sc2s.sgov.gov", ""},
    {"aws-iso-e", "cloud.adc-e.uk", ""},
    {"aws-iso-f", "csp.hci.ic.gov", ""},
}};

error_code fail(Diagnostics& diag, std::string message) {
  diag.message = std::move(message);
  return client_errc::invalid_argument;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_lower_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || is_digit(c); }

using detail::lower;

bool env_true(const EnvLookup& env, std::string_view name) {
  if (!env) return false;
  auto v = env(name);
  return v && detail::is_true_setting(*v);
}

// Region-looking label: letters-...-digit(s), e.g. "us-east-1", "us-gov-west-1", "cn-north-1".
bool looks_like_region(std::string_view s) noexcept {
  if (!is_valid_region(s)) return false;
  std::size_t dash = s.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= s.size()) return false;
  for (std::size_t i = dash + 1; i < s.size(); ++i)
    if (!is_digit(s[i])) return false;
  return s.find('-') < dash;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t e = s.find(sep, pos);
    out.push_back(s.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos));
    if (e == std::string_view::npos) break;
    pos = e + 1;
  }
  return out;
}

bool is_aws_host(std::string_view host) noexcept {
  for (const auto& p : partitions) {
    for (std::string_view suffix : {p.dns_suffix, p.dualstack_dns_suffix}) {
      if (suffix.empty()) continue;
      if (host.size() > suffix.size() + 1 && host.ends_with(suffix) &&
          host[host.size() - suffix.size() - 1] == '.')
        return true;
    }
  }
  return false;
}

bool valid_queue_name(std::string_view q) noexcept {
  std::string_view base = q.ends_with(".fifo") ? q.substr(0, q.size() - 5) : q;
  if (base.empty() || base.size() > 80) return false;
  for (char c : base)
    if (!(is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace

bool is_valid_region(std::string_view region) noexcept {
  if (region.empty() || region.size() > 63 || region.front() == '-' || region.back() == '-')
    return false;
  for (char c : region)
    if (!(is_lower_alnum(c) || c == '-')) return false;
  return true;
}

const Partition& partition_for_region(std::string_view r) noexcept {
  auto prefixed = [&](std::string_view p) { return r.starts_with(p); };
  if (prefixed("cn-")) return partitions[1];
  if (prefixed("us-gov-")) return partitions[2];
  if (prefixed("us-isob-")) return partitions[4];
  if (prefixed("us-isof-")) return partitions[6];
  if (prefixed("us-iso-")) return partitions[3];
  if (prefixed("eu-isoe-")) return partitions[5];
  return partitions[0];
}

std::string_view service_name(AwsService s) noexcept {
  switch (s) {
    case AwsService::sqs: return "sqs";
    case AwsService::s3: return "s3";
    case AwsService::sts: return "sts";
    case AwsService::cloudtrail: return "cloudtrail";
    case AwsService::dynamodb: return "dynamodb";
  }
  return "";
}

result<Endpoint> default_endpoint(AwsService service, std::string_view region, bool use_fips,
                                  bool use_dualstack, Diagnostics& diag) {
  if (!is_valid_region(region))
    return fail(diag, "region '" + std::string(region) +
                          "' is not a valid AWS region name (expected e.g. us-east-1)");
  const Partition& p = partition_for_region(region);
  if (use_dualstack && p.dualstack_dns_suffix.empty())
    return fail(diag, "dual-stack endpoints do not exist in partition " + std::string(p.name) +
                          " (region " + std::string(region) + ")");
  const std::string name(service_name(service));
  const std::string r(region);
  Endpoint e;
  e.signing_region = r;
  e.signing_name = name;
  e.source = "default";
  const bool gov = p.name == "aws-us-gov";
  if (service == AwsService::s3) {
    // S3 keeps its own dual-stack form on the normal suffix.
    e.host = std::string(use_fips ? "s3-fips" : "s3") + (use_dualstack ? ".dualstack." : ".") + r +
             "." + std::string(p.dns_suffix);
    return e;
  }
  // GovCloud's SQS and STS endpoints are FIPS endpoints already (no "-fips" host).
  const bool fips_label = use_fips && !gov;
  e.host = name + (fips_label ? "-fips." : ".") + r + "." +
           std::string(use_dualstack ? p.dualstack_dns_suffix : p.dns_suffix);
  return e;
}

result<Endpoint> parse_endpoint_url(std::string_view url, AwsService service,
                                    std::string_view region, std::string_view field,
                                    Diagnostics& diag) {
  const std::string where = std::string(field) + " '" + std::string(url) + "'";
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed)
    return fail(diag, where + " is not a URL (expected http(s)://host[:port][/path])");
  const boost::urls::url_view& u = *parsed;
  const std::string scheme = lower(u.scheme());
  if (scheme != "https" && scheme != "http")
    return fail(diag, where + " must start with https:// or http://");
  if (!u.has_authority() || u.encoded_host().empty())
    return fail(diag, where + " has no host");
  if (u.has_userinfo()) return fail(diag, where + " must not contain user info");
  if (u.has_query() || u.has_fragment())
    return fail(diag, where + " must not have a query or fragment");
  if (u.has_port() && (u.port().empty() || u.port_number() == 0))
    return fail(diag, where + " has an invalid port");
  Endpoint e;
  e.scheme = scheme;
  e.host = lower(u.encoded_host_and_port());
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  e.base_path = path;
  e.signing_region = std::string(region);
  e.signing_name = std::string(service_name(service));
  e.custom = true;
  e.source = std::string(field);
  return e;
}

result<Endpoint> resolve_endpoint(AwsService service, std::string_view region,
                                  const AwsEndpointConfig& cfg, const EnvLookup& env,
                                  Diagnostics& diag) {
  const std::string* configured = nullptr;
  std::string field;
  switch (service) {
    case AwsService::sqs: configured = &cfg.sqs_endpoint; field = "config sqs_endpoint"; break;
    case AwsService::s3: configured = &cfg.s3_endpoint; field = "config s3_endpoint"; break;
    case AwsService::sts: configured = &cfg.sts_endpoint; field = "config sts_endpoint"; break;
    case AwsService::cloudtrail: break;  // no setting in the collector file: the environment or the default
    case AwsService::dynamodb: break;  // environment overrides only
  }
  if (configured && !configured->empty())
    return parse_endpoint_url(*configured, service, region, field, diag);

  if (!env_true(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
    std::string specific = "AWS_ENDPOINT_URL_" + lower(service_name(service));
    for (char& c : specific) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    if (auto v = env_value(env, specific)) return parse_endpoint_url(*v, service, region, specific, diag);
    if (auto v = env_value(env, "AWS_ENDPOINT_URL"))
      return parse_endpoint_url(*v, service, region, "AWS_ENDPOINT_URL", diag);
  }
  const bool fips = cfg.use_fips || env_true(env, "AWS_USE_FIPS_ENDPOINT");
  const bool dualstack = cfg.use_dualstack || env_true(env, "AWS_USE_DUALSTACK_ENDPOINT");
  return default_endpoint(service, region, fips, dualstack, diag);
}

result<QueueUrl> parse_queue_url(std::string_view url, Diagnostics& diag) {
  const std::string where = "queue URL '" + std::string(url) + "'";
  const char* expected = " (expected https://sqs.<region>.amazonaws.com/<account>/<queue>)";
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return fail(diag, where + " is not a URL" + expected);
  const boost::urls::url_view& u = *parsed;
  const std::string scheme = lower(u.scheme());
  if (scheme != "https" && scheme != "http")
    return fail(diag, where + " must start with https://" + expected);
  if (!u.has_authority() || u.encoded_host().empty()) return fail(diag, where + " has no host");
  if (u.has_userinfo()) return fail(diag, where + " must not contain user info");
  if (u.has_query() || u.has_fragment())
    return fail(diag, where + " must not have a query or fragment");

  QueueUrl q;
  q.url = std::string(url);
  const std::string host = lower(u.encoded_host());
  const bool aws = u.host_type() == boost::urls::host_type::name && is_aws_host(host);

  std::string_view path = u.encoded_path();
  auto segs = split(path.empty() ? path : path.substr(1), '/');
  if (path.empty() || segs.size() != 2 || segs[0].empty() || segs[1].empty())
    return fail(diag, where + " must have the path /<account>/<queue>" + expected);
  q.account_id = std::string(segs[0]);
  q.queue_name = sigv4::percent_decode(segs[1]);
  if (!valid_queue_name(q.queue_name))
    return fail(diag, where + ": queue name '" + q.queue_name +
                          "' must be 1-80 of A-Z a-z 0-9 - _ (plus .fifo)");

  if (!aws) {
    // An emulator or other explicit endpoint: plain http allowed, region only when named.
    auto ep = parse_endpoint_url(std::string(u.scheme()) + "://" + std::string(u.encoded_host_and_port()),
                                 AwsService::sqs, "", "queue URL", diag);
    if (!ep) return ep.error();
    q.endpoint = *ep;
    auto labels = split(host, '.');
    if (labels.size() >= 3 && labels[0] == "sqs" && looks_like_region(labels[1]))
      q.region = std::string(labels[1]);
    q.endpoint.signing_region = q.region;
    return q;
  }

  if (scheme != "https") return fail(diag, where + ": AWS endpoints must use https");
  if (q.account_id.size() != 12 ||
      !std::all_of(q.account_id.begin(), q.account_id.end(), is_digit))
    return fail(diag, where + ": account '" + q.account_id + "' must be 12 digits");
  if (u.has_port()) return fail(diag, where + ": AWS queue URLs have no port");

  auto labels = split(host, '.');
  Endpoint e;
  e.signing_name = "sqs";
  e.source = "queue URL";
  if (labels[0].starts_with("vpce-")) {
    // vpce-<id>[-<az>].sqs.<region>.vpce.amazonaws.com: requests must stay on this host.
    if (labels.size() < 6 || labels[1] != "sqs" || labels[3] != "vpce" || !looks_like_region(labels[2]))
      return fail(diag, where + ": VPC endpoint host must be vpce-<id>.sqs.<region>.vpce.amazonaws.com");
    q.region = std::string(labels[2]);
    q.vpc_endpoint = true;
    e.host = host;
  } else if (labels[0] == "sqs" || labels[0] == "sqs-fips") {
    if (labels.size() < 4 || !looks_like_region(labels[1]))
      return fail(diag, where + ": expected sqs.<region>.<domain>");
    q.region = std::string(labels[1]);
    e.host = host;
  } else if (labels[0] == "queue") {
    // Legacy https://queue.amazonaws.com/...: us-east-1.
    if (host != "queue.amazonaws.com")
      return fail(diag, where + ": unknown legacy host (expected queue.amazonaws.com)");
    q.region = "us-east-1";
  } else if (labels.size() >= 4 && labels[1] == "queue" && looks_like_region(labels[0])) {
    // Legacy https://<region>.queue.amazonaws.com[.cn]/...
    q.region = std::string(labels[0]);
  } else {
    return fail(diag, where + ": unrecognized AWS host" + expected);
  }
  if (e.host.empty()) {
    // Legacy hosts: send to the modern regional endpoint of the same region.
    auto d = default_endpoint(AwsService::sqs, q.region, false, false, diag);
    if (!d) return d.error();
    e.host = d->host;
  }
  e.signing_region = q.region;
  q.endpoint = e;
  return q;
}

result<std::string> resolve_region(const AwsEndpointConfig& cfg, const QueueUrl* queue,
                                   const EnvLookup& env, Diagnostics& diag) {
  std::string region, field;
  if (!cfg.region.empty()) {
    region = cfg.region;
    field = "config region";
  } else if (queue && !queue->region.empty()) {
    region = queue->region;
    field = "queue URL";
  } else if (auto v = env_value(env, "AWS_REGION")) {
    region = *v;
    field = "AWS_REGION";
  } else if (auto d = env_value(env, "AWS_DEFAULT_REGION")) {
    region = *d;
    field = "AWS_DEFAULT_REGION";
  } else {
    return fail(diag, "no AWS region: set region in the configuration, use a queue URL that "
                      "names one, or set AWS_REGION");
  }
  if (!is_valid_region(region))
    return fail(diag, field + " '" + region + "' is not a valid AWS region name (expected e.g. us-east-1)");
  return region;
}

result<Endpoint> resolve_sqs_endpoint(const QueueUrl& queue, std::string_view region,
                                      const AwsEndpointConfig& cfg, const EnvLookup& env,
                                      Diagnostics& diag) {
  const bool env_override =
      !env_true(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") &&
      (env_value(env, "AWS_ENDPOINT_URL_SQS") || env_value(env, "AWS_ENDPOINT_URL"));
  if (!cfg.sqs_endpoint.empty() || env_override)
    return resolve_endpoint(AwsService::sqs, region, cfg, env, diag);
  Endpoint e = queue.endpoint;
  e.signing_region = std::string(region);
  if (!e.custom && !queue.vpc_endpoint && (cfg.use_fips || cfg.use_dualstack ||
                                           env_true(env, "AWS_USE_FIPS_ENDPOINT") ||
                                           env_true(env, "AWS_USE_DUALSTACK_ENDPOINT"))) {
    auto d = resolve_endpoint(AwsService::sqs, region, cfg, env, diag);
    if (!d) return d.error();
    e = *d;
  }
  return e;
}

bool is_virtual_hostable_bucket(std::string_view b, bool https) noexcept {
  if (b.size() < 3 || b.size() > 63) return false;
  if (!is_lower_alnum(b.front()) || !is_lower_alnum(b.back())) return false;
  bool all_digits_or_dots = true;
  for (std::size_t i = 0; i < b.size(); ++i) {
    char c = b[i];
    if (c == '.') {
      if (https) return false;
      if (b[i - 1] == '.' || b[i - 1] == '-' || b[i + 1] == '-') return false;
    } else if (!(is_lower_alnum(c) || c == '-')) {
      return false;
    }
    if (!(is_digit(c) || c == '.')) all_digits_or_dots = false;
  }
  return !all_digits_or_dots;  // "192.168.5.4" is an IP address, not a bucket host
}

S3ObjectTarget s3_object_target(const Endpoint& s3, std::string_view bucket, std::string_view key,
                                bool force_path_style) {
  S3ObjectTarget t;
  t.scheme = s3.scheme;
  std::string_view host_only = s3.host;
  if (!host_only.empty() && host_only.front() == '[') {
    host_only = {};  // IPv6 literal
  } else if (auto colon = host_only.rfind(':'); colon != std::string_view::npos) {
    host_only = host_only.substr(0, colon);
  }
  bool ip_or_local = host_only.empty() || host_only == "localhost" ||
                     std::all_of(host_only.begin(), host_only.end(),
                                 [](char c) { return is_digit(c) || c == '.'; });
  const std::string encoded_key = sigv4::uri_encode(key, false);
  if (!force_path_style && !ip_or_local && is_virtual_hostable_bucket(bucket, s3.scheme == "https")) {
    t.virtual_hosted = true;
    t.host = std::string(bucket) + "." + s3.host;
    t.path = s3.base_path + "/" + encoded_key;
  } else {
    t.host = s3.host;
    t.path = s3.base_path + "/" + sigv4::uri_encode(bucket, true) + "/" + encoded_key;
  }
  return t;
}

}  // namespace ctsqs
