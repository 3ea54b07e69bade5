// Validation of a parsed collector file: every setting checked against what AWS and Devo accept,
// each problem named by its JSON path (validation_issues, validate).
#include "ctsqs/collector/config.hpp"

#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/ledger/ledger.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <sstream>

#include "detail/config_text.hpp"

namespace ctsqs {

using std::chrono::milliseconds;
using std::chrono::seconds;
using namespace config_text;

// ---------------------------------------------------------------------------------------------
// Validation

namespace {

constexpr std::string_view in_path = "inputs.sqs_collector";

struct Issues {
  std::vector<ConfigIssue> list;
  void add(std::string path, std::string message) { list.push_back({std::move(path), std::move(message)}); }
  /// True (and an issue recorded) when `value` still holds a template placeholder.
  bool placeholder(const std::string& path, std::string_view value, bool secret = false) {
    if (!is_placeholder(value)) return false;
    add(path, "still holds a template placeholder" + (secret ? std::string() : " " + shown(value)) +
                  "; replace the <...> part with your value");
    return true;
  }
};

std::string p(std::string_view a, std::string_view b) {
  std::string out(a);
  out += '.';
  out += b;
  return out;
}

/// "" when `url` is an absolute http(s) URL with a host (and, if `no_path`, nothing after it).
std::string check_http_url(std::string_view url, bool no_path) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return "expected an absolute URL such as https://host[:port], got " + shown(url);
  auto scheme = lower(std::string_view(u->scheme()));
  if (scheme != "https" && scheme != "http")
    return "expected an http:// or https:// URL, got scheme " + shown(scheme);
  if (u->encoded_host().empty()) return "expected a host name in the URL, got " + shown(url);
  if (u->has_query() || u->has_fragment()) return "expected no query or fragment in the URL";
  if (no_path && !(u->encoded_path().empty() || u->encoded_path() == "/"))
    return "expected no path in an endpoint URL (just scheme://host[:port]), got " + shown(url);
  return {};
}

void check_queue_url(Issues& is, const std::string& url) {
  const std::size_t issues_before = is.list.size();
  auto path = p(in_path, "base_url");
  if (url.empty()) {
    is.add(path, "missing: the SQS queue URL, e.g. https://sqs.us-east-1.amazonaws.com/123456789012/my-queue");
    return;
  }
  if (is.placeholder(path, url)) return;
  if (auto m = check_http_url(url, false); !m.empty()) {
    is.add(path, m);
    return;
  }
  auto u = boost::urls::parse_absolute_uri(url);
  std::string host = lower(std::string_view(u->encoded_host()));
  bool aws = is_aws_host(host);
  if (aws && lower(std::string_view(u->scheme())) != "https")
    is.add(path, "expected https:// for an AWS queue URL, got " + shown(url));
  auto segs = split(std::string_view(u->encoded_path()), '/');
  // "/acct/queue" splits into "", "acct", "queue"
  if (segs.size() != 3 || !segs[0].empty() || segs[1].empty() || segs[2].empty()) {
    is.add(path, "expected a queue URL of the form https://sqs.<region>.amazonaws.com/<12-digit account>/<queue name>, got " +
                     shown(url));
    return;
  }
  if (aws && (segs[1].size() != 12 || !all_of(segs[1], is_digit)))
    is.add(path, "expected a 12-digit AWS account id as the first path segment, got " + shown(segs[1]));
  auto q = segs[2];
  bool qok = q.size() <= 80 && std::all_of(q.begin(), q.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (!qok) is.add(path, "expected a queue name of letters, digits, '-' and '_' (at most 80), got " + shown(q));
  // The endpoint resolver must accept it too (it knows every AWS host form).
  Diagnostics d;
  if (!qok || is.list.size() != issues_before) return;
  if (auto r = parse_queue_url(url, d); !r) is.add(path, d.message.empty() ? "not a usable queue URL" : d.message);
}

void check_credentials(Issues& is, const AwsCredentialsConfig& c) {
  auto base = p(in_path, "credentials");
  auto role = [&](std::string_view key, const std::string& v) {
    if (v.empty()) return;
    auto path = p(base, key);
    if (is.placeholder(path, v)) return;
    if (!is_valid_role_arn(v))
      is.add(path, "expected an IAM role ARN arn:aws[-cn|-us-gov]:iam::<12-digit account>:role/<name>, got " +
                       shown(v));
  };
  role("aws_cross_account_role", c.cross_account_role);
  role("aws_base_account_role", c.base_account_role);
  if (!c.external_id.empty()) {
    auto path = p(base, "aws_external_id");
    if (!is.placeholder(path, c.external_id)) {
      if (c.cross_account_role.empty())
        is.add(path, "an external id needs aws_cross_account_role (it is passed when assuming that role)");
      // AWS documents 2-1224 characters, but Devo's own template example uses "X": accept it.
      if (c.external_id.size() > 1224) is.add(path, "expected at most 1224 characters (AWS's limit for ExternalId)");
    }
  }
  bool has_id = !c.access_key_id.empty(), has_secret = !c.secret_access_key.empty();
  if (has_id && !is.placeholder(p(base, "aws_access_key_id"), c.access_key_id)) {
    // AWS key ids are 16+ characters; local emulators accept anything (e.g. "test").
    bool ok = c.access_key_id.size() <= 128 &&
              std::all_of(c.access_key_id.begin(), c.access_key_id.end(),
                          [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; });
    if (!ok) is.add(p(base, "aws_access_key_id"), "expected an access key id of letters and digits (e.g. AKIA...)");
  }
  if (has_secret) is.placeholder(p(base, "aws_secret_access_key"), c.secret_access_key, /*secret=*/true);
  if (has_id && !has_secret)
    is.add(p(base, "aws_secret_access_key"), "missing: aws_access_key_id is set, its secret key is not");
  if (has_secret && !has_id)
    is.add(p(base, "aws_access_key_id"), "missing: aws_secret_access_key is set, its key id is not");
  auto cpath = std::string("ctsqs.credentials");
  if (c.session_duration < seconds(900) || c.session_duration > seconds(43200))
    is.add(p(cpath, "session_duration"), "expected 900 s to 43200 s (AssumeRole's DurationSeconds range)");
  const auto& sn = c.session_name;
  bool sn_ok = sn.size() >= 2 && sn.size() <= 64 && std::all_of(sn.begin(), sn.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("+=,.@_-").find(ch) != std::string_view::npos;
  });
  if (!sn_ok) is.add(p(cpath, "session_name"), "expected 2-64 characters of letters, digits and +=,.@_- (RoleSessionName), got " + shown(sn));
  if (!c.profile.empty()) is.placeholder(p(cpath, "profile"), c.profile);
}

/// "" when `tag` is a usable Devo tag (levels of [A-Za-z0-9_-] joined by '.', at least two).
std::string check_tag(std::string_view tag) {
  if (tag.empty()) return "expected a Devo tag such as my.app.ctsqs.heartbeat";
  auto levels = split(tag, '.');
  if (levels.size() < 2) return "expected a Devo tag of at least two levels, got " + shown(tag);
  for (auto l : levels) {
    bool ok = !l.empty() && std::all_of(l.begin(), l.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
    });
    if (!ok) return "expected tag levels of letters, digits, '_' and '-' joined by '.', got " + shown(tag);
  }
  return {};
}

/// "" when `listen` is host:port with a loopback host.
std::string check_listen(std::string_view listen) {
  std::string_view host, port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return "expected [::1]:PORT, got " + shown(listen);
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) return "expected HOST:PORT such as 127.0.0.1:9464, got " + shown(listen);
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  unsigned n = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || n > 65535)
    return "expected a port number 0-65535 after ':', got " + shown(listen);
  bool loopback = host == "localhost" || host == "::1";
  if (!loopback && host.starts_with("127.")) {
    auto parts = split(host, '.');
    loopback = parts.size() == 4 && std::all_of(parts.begin(), parts.end(), [](std::string_view s) {
                 return !s.empty() && s.size() <= 3 && all_of(s, is_digit) && std::stoi(std::string(s)) <= 255;
               });
  }
  if (!loopback)
    return "expected a loopback address (127.0.0.1, [::1] or localhost): the metrics endpoint has no "
           "authentication, got " + shown(listen);
  return {};
}

}  // namespace

std::vector<ConfigIssue> validation_issues(const CollectorConfig& c, const ServiceHandlerRegistry* registry,
                                           bool ledger_given) {
  const ServiceHandlerRegistry& reg = registry ? *registry : ServiceHandlerRegistry::builtin();
  Issues is;
  // id
  if (c.id.empty()) {
    is.add(p(in_path, "id"), "missing: the collector id, e.g. \"12345\" (the heartbeat carries it)");
  } else if (!is.placeholder(p(in_path, "id"), c.id)) {
    bool ok = c.id.size() <= 64 && std::all_of(c.id.begin(), c.id.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.';
    });
    if (!ok) is.add(p(in_path, "id"), "expected up to 64 letters, digits, '_', '-' or '.', got " + shown(c.id));
  }

  if (c.queue_required || !c.queue_url.empty()) check_queue_url(is, c.queue_url);

  // region: given, or derivable from base_url
  auto rpath = p(in_path, "region");
  std::optional<std::string> from_url;
  Diagnostics unused;  // check_queue_url reported an unusable URL above
  if (auto q = parse_queue_url(c.queue_url, unused); q && !q->region.empty()) from_url = q->region;
  if (c.aws.region.empty()) {
    if (!c.queue_url.empty() && !is_placeholder(c.queue_url))
      is.add(rpath, "missing: base_url names no AWS region, so set region (e.g. \"us-east-1\")");
  } else if (!is.placeholder(rpath, c.aws.region)) {
    if (!is_region_name(c.aws.region) || !is_valid_region(c.aws.region))
      is.add(rpath, "expected an AWS region such as \"us-east-1\" or \"eu-west-1\", got " + shown(c.aws.region));
    else if (from_url && *from_url != c.aws.region)
      is.add(rpath, "region " + shown(c.aws.region) + " does not match base_url's region " + shown(*from_url));
  }

  check_credentials(is, c.credentials);

  // services
  auto spath = p(in_path, "services");
  if (c.services.empty()) {
    is.add(spath, "missing: at least one service, e.g. {\"aws_sqs_cloudtrail\": {}}; known services: " +
                      reg.describe_known());
  }
  for (const auto& s : c.services) {
    auto handler = reg.find(s.name);
    auto path = join_path(spath, s.configured_name.empty() ? s.name : s.configured_name);
    if (!handler) {
      is.add(path, "unknown service " + shown(s.name) + "; known services: " + reg.describe_known());
      continue;
    }
    if (is_placeholder(s.routing_template)) {
      is.placeholder(p(path, "routing_template"), s.routing_template);
      continue;
    }
    if (Diagnostics cd; !handler->check(s, path, cd)) {
      const auto& m = cd.message;
      auto colon = m.find(": ");
      is.add(m.substr(0, colon), colon == std::string::npos ? m : m.substr(colon + 2));
    }
  }

  // outputs
  const auto& o = c.outputs;
  if (o.directory) {
    auto dp = std::string("ctsqs.outputs.directory.path");
    if (o.directory->path.empty()) is.add(dp, "missing: the directory to write one file per tag into");
    else is.placeholder(dp, o.directory->path.string());
  }
  if (o.devo) {
    const std::size_t before_devo = is.list.size();
    const auto& d = *o.devo;
    std::string dp = "ctsqs.outputs.devo";
    for (auto [key, v] : {std::pair<const char*, const std::string*>{"address", &d.address},
                          {"region", &d.region}, {"cert", &d.cert_file}, {"key", &d.key_file},
                          {"chain", &d.chain_file}, {"hostname", &d.hostname}})
      if (!v->empty()) is.placeholder(p(dp, key), *v);
    if (d.address.empty() && d.region.empty())
      is.add(dp, "missing: set address (a relay or collector host) or region (\"us\", \"eu\", ...)");
    if (!d.address.empty() && !d.region.empty())
      is.add(p(dp, "region"), "set either address or region, not both");
    if (!d.region.empty() && !is_placeholder(d.region) && !devo_region_host(d.region))
      is.add(p(dp, "region"), "expected a Devo region: \"us\", \"eu\", \"ca\" or \"apac\", got " + shown(d.region));
    if (d.cert_file.empty() != d.key_file.empty())
      is.add(p(dp, d.cert_file.empty() ? "cert" : "key"), "missing: cert and key go together (the domain's client certificate and its private key)");
    if (d.tls && d.cert_file.empty() && d.key_file.empty())
      is.add(p(dp, "cert"), "missing: TLS to Devo needs the domain's client certificate (cert, key, chain); "
                             "set \"tls\": false for a relay over plain TCP");
    if (!d.tls && (!d.cert_file.empty() || !d.chain_file.empty()))
      is.add(p(dp, "tls"), "tls is false but a certificate is set; a relay over plain TCP uses none");
    if (d.port == 0) is.add(p(dp, "port"), "expected a port 1-65535");
    if (d.connect_timeout <= milliseconds(0)) is.add(p(dp, "connect_timeout"), "expected a positive duration");
    if (d.buffer_bytes < 4096) is.add(p(dp, "buffer_bytes"), "expected at least 4096 bytes");
    // Whatever the sink itself would refuse is refused here, before anything runs.
    if (is.list.size() == before_devo) {
      Diagnostics dd;
      if (auto v = validate(d, dd); !v) {
        std::string m = dd.message;
        if (m.starts_with("devo: ")) m.erase(0, 6);
        is.add(dp, m);
      }
    }
  }
  if (o.devo_http) {
    const auto& d = *o.devo_http;
    const std::string dp = "ctsqs.outputs.devo_http";
    const std::size_t before = is.list.size();
    for (auto [key, v] : {std::pair<const char*, const std::string*>{"endpoint", &d.endpoint},
                          {"region", &d.region}, {"domain", &d.domain}, {"hostname", &d.hostname},
                          {"chain", &d.ca_bundle}})
      if (!v->empty()) is.placeholder(p(dp, key), *v);
    if (!d.token.empty()) is.placeholder(p(dp, "token"), d.token, /*secret=*/true);
    // Whatever the sink itself would refuse is refused here (its messages never hold the token).
    if (is.list.size() == before) {
      Diagnostics dd;
      if (auto v = validate(d, dd); !v) {
        std::string m = dd.message;
        if (m.starts_with("devo_http: ")) m.erase(0, 11);
        const auto colon = m.find(": ");
        const auto key = m.substr(0, colon);
        const bool field = colon != std::string::npos && key.find(' ') == std::string::npos;
        is.add(field ? p(dp, key) : dp, field ? m.substr(colon + 2) : m);
      }
    }
  }
  // concurrency and SQS
  const auto& q = c.sqs;
  if (q.wait_time < seconds(0) || q.wait_time > seconds(20))
    is.add("ctsqs.sqs.wait_time", "expected 0 to 20 seconds (SQS's WaitTimeSeconds range)");
  if (q.max_messages < 1 || q.max_messages > 10)
    is.add("ctsqs.sqs.max_messages", "expected 1 to 10 (SQS's MaxNumberOfMessages range)");
  if (q.visibility_timeout < seconds(1) || q.visibility_timeout > seconds(43200))
    is.add("ctsqs.sqs.visibility_timeout", "expected 1 s to 43200 s (12 hours, SQS's limit)");
  else if (q.extension_interval() < seconds(1) || q.extension_interval() >= q.visibility_timeout)
    is.add("ctsqs.sqs.visibility_extension_interval",
           "expected at least 1 s and less than visibility_timeout (" +
               std::to_string(q.visibility_timeout.count()) + " s), so messages are extended before they reappear");
  if (c.concurrency.messages_in_flight < 1) is.add("ctsqs.concurrency.messages_in_flight", "expected at least 1");
  if (c.concurrency.objects_in_flight < 1) is.add("ctsqs.concurrency.objects_in_flight", "expected at least 1");
  if (c.concurrency.receives_in_flight < 1) is.add("ctsqs.concurrency.receives_in_flight", "expected at least 1");
  if (c.on_permanent_error.delete_after_receives < 0)
    is.add("ctsqs.on_permanent_error.delete_after_receives", "expected at least 1 receive");
  if (c.drain.empty_polls < 1) is.add("ctsqs.drain.empty_polls", "expected at least 1");
  if (c.on_sink_failure.give_up_after < seconds(0))
    is.add("ctsqs.on_sink_failure.give_up_after", "expected a duration >= 0");
  if (c.run.shutdown_grace < seconds(0)) is.add("ctsqs.run.shutdown_grace", "expected a duration >= 0");

  // heartbeat and metrics
  if (c.heartbeat.enabled) {
    if (c.heartbeat.interval < seconds(1)) is.add("ctsqs.heartbeat.interval", "expected at least 1 s");
    if (auto m = check_tag(c.heartbeat.tag); !m.empty()) is.add("ctsqs.heartbeat.tag", m);
  }
  if (c.metrics.listen) {
    if (auto m = check_listen(*c.metrics.listen); !m.empty()) is.add("ctsqs.metrics.listen", m);
  }
  if (c.ledger) {
    Diagnostics d;
    if (!parse_ledger_location(*c.ledger, "ctsqs.ledger", d))
      is.add("ctsqs.ledger", d.message.substr(std::string_view("ctsqs.ledger: ").size()));
  }
  if (c.integrity.heal && !c.ledger && !ledger_given)
    is.add("ctsqs.integrity.heal",
           "needs a delivery ledger (ctsqs.ledger or --ledger): a hole is a file a digest lists that the ledger "
           "does not hold");
  if (c.integrity.heal && !c.integrity.verify_digests)
    is.add("ctsqs.integrity.heal",
           "needs ctsqs.integrity.verify_digests: true (only a verified digest is trusted to name holes)");
  if (c.integrity.heal_grace < seconds(0)) is.add("ctsqs.integrity.heal_grace", "expected a duration >= 0");
  if (c.ledger_retention < std::chrono::hours(1))
    is.add("ctsqs.ledger_retention", "expected at least 1 hour (records must outlive a redelivery), e.g. \"35d\"");

  // endpoints
  const auto& e = c.aws;
  for (auto [key, v] : {std::pair<const char*, const std::string*>{"sqs", &e.sqs_endpoint},
                        {"s3", &e.s3_endpoint}, {"sts", &e.sts_endpoint}}) {
    if (v->empty()) continue;
    auto path = p("ctsqs.endpoints", key);
    if (is.placeholder(path, *v)) continue;
    if (auto m = check_http_url(*v, true); !m.empty()) is.add(path, m);
  }
  if (!e.ca_bundle.empty()) is.placeholder("ctsqs.endpoints.ca_bundle", e.ca_bundle);
  if (e.connect_timeout <= milliseconds(0)) is.add("ctsqs.endpoints.connect_timeout", "expected a positive duration");
  if (e.read_timeout <= milliseconds(0)) is.add("ctsqs.endpoints.read_timeout", "expected a positive duration");
  if (e.max_attempts != 0 && (e.max_attempts < 1 || e.max_attempts > 20))
    is.add("ctsqs.endpoints.max_attempts", "expected 1 to 20");

  // decoder
  if (c.decoder.max_object_bytes && *c.decoder.max_object_bytes < 1024)
    is.add("ctsqs.decoder.max_object_bytes", "expected at least 1024 bytes");
  if (c.decoder.max_record_bytes && *c.decoder.max_record_bytes < 1024)
    is.add("ctsqs.decoder.max_record_bytes", "expected at least 1024 bytes");
  if (c.decoder.max_object_bytes && c.decoder.max_record_bytes &&
      *c.decoder.max_record_bytes > *c.decoder.max_object_bytes)
    is.add("ctsqs.decoder.max_record_bytes", "expected no more than max_object_bytes");
  return std::move(is.list);
}

result<void> validate(const CollectorConfig& config, Diagnostics& diag,
                      const ServiceHandlerRegistry* registry, bool ledger_given) {
  auto issues = validation_issues(config, registry, ledger_given);
  if (issues.empty()) return {};
  std::string source = config.source_name.empty() ? "config" : config.source_name;
  std::string msg;
  for (std::size_t i = 0; i < issues.size(); ++i) {
    if (i) msg += '\n';
    msg += source + ": " + issues[i].path + ": " + issues[i].message;
  }
  diag.message = std::move(msg) + warnings_note(config);
  return make_error_code(client_errc::invalid_argument);
}

}  // namespace ctsqs
