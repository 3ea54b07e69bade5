// Collector file parser: Devo's SQS collector template (`inputs.sqs_collector`, its services
// through the handler registry) and the `ctsqs` section, read with Boost.JSON; every error names
// the file, the JSON path and what was expected. Validation is in collector_config_validate.cpp,
// the redacted summary in collector_config_summary.cpp, the generic JSON reading in
// detail/json_reader.cpp.
#include "ctsqs/collector/config.hpp"

#include "ctsqs/aws/endpoints.hpp"

#include <boost/json/parse_options.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "detail/config_text.hpp"
#include "detail/json_reader.hpp"

namespace ctsqs {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using namespace config_text;
using namespace json_config;

// ---------------------------------------------------------------------------------------------
// Small public checks

bool is_placeholder(std::string_view v) noexcept {
  auto open = v.find('<');
  if (open == std::string_view::npos) return false;
  auto close = v.find('>', open + 1);
  return close != std::string_view::npos;
}

bool is_region_name(std::string_view r) noexcept {
  if (r.size() > 32) return false;
  auto parts = split(r, '-');
  if (parts.size() < 3 || parts.size() > 4) return false;
  if (parts.front().size() != 2 || !all_of(parts.front(), is_lower)) return false;
  if (!all_of(parts.back(), is_digit) || parts.back().size() > 2) return false;
  for (std::size_t i = 1; i + 1 < parts.size(); ++i)
    if (!all_of(parts[i], is_lower)) return false;
  return true;
}

bool is_valid_role_arn(std::string_view arn) noexcept {
  auto f = split(arn, ':');
  // arn : partition : iam : (empty region) : account : role/name (a role path may not contain ':')
  if (f.size() != 6 || f[0] != "arn") return false;
  if (f[1] != "aws" && f[1] != "aws-cn" && f[1] != "aws-us-gov") return false;
  if (f[2] != "iam" || !f[3].empty()) return false;
  if (f[4].size() != 12 || !all_of(f[4], is_digit)) return false;
  std::string_view res = f[5];
  if (!res.starts_with("role/")) return false;
  res.remove_prefix(5);
  if (res.empty() || res.size() > 512 || res.back() == '/') return false;
  auto name = res.substr(res.rfind('/') == std::string_view::npos ? 0 : res.rfind('/') + 1);
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(res.begin(), res.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("+=,.@_-/").find(c) !=
                                                              std::string_view::npos;
  });
}

DecoderOptions apply(const DecoderLimits& limits, DecoderOptions base) {
  if (limits.max_object_bytes) base.max_object_bytes = *limits.max_object_bytes;
  if (limits.max_record_bytes)
    base.max_record_bytes = static_cast<std::size_t>(
        std::min<std::uint64_t>(*limits.max_record_bytes, std::numeric_limits<std::size_t>::max()));
  return base;
}

namespace {

OutputFormat read_format(ObjReader& r, std::string_view key) {
  auto s = r.str(key);
  if (!s) return OutputFormat::flat;
  auto f = parse_output_format(*s);
  if (!f) fail(r.child(key), "expected \"flat\", \"raw\" or \"devo\", got " + shown(*s));
  return *f;
}

void parse_credentials(ObjReader& r, AwsCredentialsConfig& c) {
  if (auto v = r.str("aws_access_key_id")) c.access_key_id = *v;
  if (auto v = r.str("aws_secret_access_key")) c.secret_access_key = *v;
  if (auto v = r.str("aws_base_account_role")) c.base_account_role = *v;
  if (auto v = r.str("aws_cross_account_role")) c.cross_account_role = *v;
  if (auto v = r.str("aws_external_id")) c.external_id = *v;
  // Devo's own role chaining inputs; ctsqs reads the same names.
  r.ignore("aws_session_token", "session tokens are not read from the file; use the credential chain");
  r.finish();
}

void parse_services(ObjReader& parent, const ServiceHandlerRegistry& registry,
                    std::vector<ServiceSettings>& out, std::vector<ConfigWarning>& warnings) {
  auto v = parent.take("services");
  if (!v) return;  // validation reports the missing section
  std::string path = parent.child("services");
  if (!v->is_object())
    fail(path, "expected an object of services, e.g. {\"aws_sqs_cloudtrail\": {}}, got " +
                   std::string(kind_name(*v)));
  for (const auto& kv : v->get_object()) {
    std::string spath = join_path(path, kv.key());
    auto handler = registry.find(kv.key());
    if (!handler)
      fail(spath, "unknown service " + shown(kv.key()) + "; known services: " +
                      registry.describe_known());
    for (const auto& existing : out)
      if (existing.name == handler->name())
        fail(spath, "service " + std::string(handler->name()) + " is configured twice (as " +
                        shown(existing.configured_name) + " and " + shown(kv.key()) + ")");
    static const json::object empty;
    const json::object* opts = &empty;
    if (kv.value().is_object()) {
      opts = &kv.value().get_object();
    } else if (!kv.value().is_null()) {
      fail(spath, "expected an object of service options ({} for the defaults), got " +
                      std::string(kind_name(kv.value())));
    }
    ObjReader sr(*opts, spath, warnings);
    JsonServiceOptions so(sr);
    Diagnostics d;
    auto settings = handler->parse_options(so, d);
    if (!settings) {
      // d.message is "<path>: <message>" as produced by JsonServiceOptions or the handler.
      auto colon = d.message.find(": ");
      if (colon != std::string::npos && d.message.compare(0, spath.size(), spath) == 0)
        fail(d.message.substr(0, colon), d.message.substr(colon + 2));
      fail(spath, d.message.empty() ? "invalid service options" : d.message);
    }
    settings->name = std::string(handler->name());
    settings->configured_name = kv.key();
    out.push_back(std::move(*settings));
    sr.finish();
  }
}

void parse_sqs_collector(ObjReader& r, CollectorConfig& c, const ServiceHandlerRegistry& registry,
                         std::vector<ConfigWarning>& warnings) {
  if (auto v = r.take("id")) {
    if (v->is_string()) {
      c.id = std::string(v->get_string());
    } else if (v->is_int64() || v->is_uint64()) {
      c.id = v->is_int64() ? std::to_string(v->get_int64()) : std::to_string(v->get_uint64());
    } else {
      fail(r.child("id"), "expected the collector id as a string such as \"12345\", got " +
                              std::string(kind_name(*v)));
    }
  }
  if (auto v = r.boolean("enabled")) c.enabled = *v;
  if (auto v = r.str("base_url")) c.queue_url = *v;
  if (auto v = r.str("region")) c.aws.region = *v;
  if (auto cr = r.object("credentials")) parse_credentials(*cr, c.credentials);
  if (auto v = r.boolean("ack_messages")) c.ack_messages = *v;
  if (auto v = r.boolean("direct_mode")) c.direct_mode = *v;
  if (auto v = r.boolean("do_not_send")) c.do_not_send = *v;
  if (auto v = r.boolean("compressed_events")) c.compressed_events = *v;
  // Devo's SQS tuning keys map onto ctsqs.sqs (which, when also set, wins).
  if (auto v = r.integer("sqs_wait_timeout", 0, 20)) c.sqs.wait_time = seconds(*v);
  if (auto v = r.integer("sqs_max_messages", 1, 10)) c.sqs.max_messages = static_cast<int>(*v);
  if (auto v = r.integer("sqs_visibility_timeout", 1, 43200)) c.sqs.visibility_timeout = seconds(*v);
  r.ignore("debug_md5", "not used by ctsqs");
  parse_services(r, registry, c.services, warnings);
  r.finish();
}

DevoSinkOptions parse_devo(ObjReader& r) {
  DevoSinkOptions d;
  if (auto v = r.str("address")) d.address = *v;
  if (auto v = r.str("region")) d.region = *v;
  if (auto v = r.integer("port", 1, 65535)) d.port = static_cast<std::uint16_t>(*v);
  if (auto v = r.boolean("tls")) d.tls = *v;
  for (auto k : {"cert", "cert_file"})
    if (auto v = r.str(k)) d.cert_file = *v;
  for (auto k : {"key", "key_file"})
    if (auto v = r.str(k)) d.key_file = *v;
  for (auto k : {"chain", "chain_file"})
    if (auto v = r.str(k)) d.chain_file = *v;
  if (auto v = r.str("hostname")) d.hostname = *v;
  if (auto v = r.integer("priority", 0, 191)) d.priority = static_cast<int>(*v);
  if (auto v = r.size("buffer_bytes")) d.buffer_bytes = static_cast<std::size_t>(*v);
  if (auto v = r.duration("connect_timeout")) d.connect_timeout = *v;
  if (auto v = r.whole_seconds("reconnect_every")) d.reconnect_every = *v;
  if (auto v = r.str("server_name")) d.server_name = *v;
  if (auto v = r.boolean("verify_server")) d.verify_server = *v;
  if (auto v = r.size("batch_bytes")) d.batch_bytes = static_cast<std::size_t>(*v);
  if (auto v = r.duration("flush_timeout")) d.flush_timeout = *v;
  if (auto v = r.duration("backoff_initial")) d.backoff_initial = *v;
  if (auto v = r.duration("backoff_max")) d.backoff_max = *v;
  if (auto v = r.duration("accept_wait")) d.accept_wait = *v;
  r.finish();
  return d;
}

DevoHttpSinkOptions parse_devo_http(ObjReader& r) {
  DevoHttpSinkOptions d;
  if (auto v = r.str("endpoint")) d.endpoint = *v;
  if (auto v = r.str("region")) d.region = *v;
  if (auto v = r.str("domain")) d.domain = *v;
  if (auto v = r.str("token")) d.token = *v;
  if (auto v = r.str("hostname")) d.hostname = *v;
  for (auto k : {"chain", "ca_bundle"})
    if (auto v = r.str(k)) d.ca_bundle = *v;
  if (auto v = r.boolean("verify_server")) d.verify_server = *v;
  if (auto v = r.size("batch_bytes")) d.batch_bytes = static_cast<std::size_t>(*v);
  if (auto v = r.size("buffer_bytes")) d.buffer_bytes = static_cast<std::size_t>(*v);
  if (auto v = r.integer("compression_level", 1, 12)) d.compression_level = static_cast<int>(*v);
  if (auto v = r.duration("connect_timeout")) d.connect_timeout = *v;
  if (auto v = r.duration("request_timeout")) d.request_timeout = *v;
  if (auto v = r.duration("flush_timeout")) d.flush_timeout = *v;
  if (auto v = r.duration("backoff_initial")) d.backoff_initial = *v;
  if (auto v = r.duration("backoff_max")) d.backoff_max = *v;
  if (auto v = r.duration("retry_after_max")) d.retry_after_max = *v;
  r.finish();
  return d;
}

void parse_outputs(ObjReader& r, OutputsConfig& o) {
  if (auto v = r.take("stdout")) {
    if (v->is_bool()) {
      if (v->get_bool()) o.standard_output = StdoutOutputConfig{};
    } else if (v->is_string()) {
      auto f = parse_output_format(v->get_string());
      if (!f) fail(r.child("stdout"), "expected \"flat\", \"raw\" or \"devo\", got " + shown(v->get_string()));
      o.standard_output = StdoutOutputConfig{*f};
    } else if (v->is_object()) {
      ObjReader s(v->get_object(), r.child("stdout"), r.warnings());
      o.standard_output = StdoutOutputConfig{read_format(s, "format")};
      s.finish();
    } else {
      fail(r.child("stdout"), "expected true, a format name or {\"format\": ...}, got " +
                                  std::string(kind_name(*v)));
    }
  }
  if (auto v = r.take("directory")) {
    DirectoryOutputConfig d;
    if (v->is_string()) {
      d.path = std::string(v->get_string());
    } else if (v->is_object()) {
      ObjReader s(v->get_object(), r.child("directory"), r.warnings());
      if (auto p = s.str("path")) d.path = *p;
      else fail(s.child("path"), "missing: the directory to write one file per tag into");
      d.format = read_format(s, "format");
      s.finish();
    } else {
      fail(r.child("directory"), "expected a path or {\"path\": ..., \"format\": ...}, got " +
                                     std::string(kind_name(*v)));
    }
    o.directory = std::move(d);
  }
  if (auto d = r.object("devo")) o.devo = parse_devo(*d);
  if (auto d = r.object("devo_http")) o.devo_http = parse_devo_http(*d);
  r.finish();
}

void parse_ctsqs(ObjReader& r, CollectorConfig& c) {
  if (auto o = r.object("outputs")) parse_outputs(*o, c.outputs);
  if (auto o = r.object("concurrency")) {
    constexpr std::int64_t max = 100000;
    if (auto v = o->integer("messages_in_flight", 1, max)) c.concurrency.messages_in_flight = static_cast<std::size_t>(*v);
    if (auto* v = o->take("objects_in_flight"); v && v->is_string()) {
      if (v->get_string() != "auto")
        fail(o->child("objects_in_flight"),
                "expected \"auto\" or an integer between 1 and " + std::to_string(max) + ", got " +
                    shown(v->get_string()));
      c.concurrency.adaptive_objects_in_flight = true;
    } else if (auto n = o->integer("objects_in_flight", 1, max)) {
      c.concurrency.objects_in_flight = static_cast<std::size_t>(*n);
      c.concurrency.adaptive_objects_in_flight = false;
    }
    if (auto v = o->integer("max_objects_in_flight", 1, max))
      c.concurrency.max_objects_in_flight = static_cast<std::size_t>(*v);
    if (auto v = o->integer("receives_in_flight", 1, 1000)) c.concurrency.receives_in_flight = static_cast<std::size_t>(*v);
    if (auto v = o->integer("decode_threads", 0, 1024)) c.concurrency.decode_threads = static_cast<unsigned>(*v);
    o->finish();
  }
  if (auto o = r.object("sqs")) {
    if (auto v = o->whole_seconds("wait_time")) c.sqs.wait_time = *v;
    if (auto v = o->integer("max_messages", 1, 10)) c.sqs.max_messages = static_cast<int>(*v);
    if (auto v = o->whole_seconds("visibility_timeout")) c.sqs.visibility_timeout = *v;
    if (auto v = o->whole_seconds("visibility_extension_interval")) c.sqs.visibility_extension_interval = *v;
    o->finish();
  }
  if (auto v = r.take("on_permanent_error")) {
    auto path = r.child("on_permanent_error");
    static constexpr const char* expected =
        "expected \"leave\" (the queue's dead-letter queue takes it) or "
        "{\"delete_after_receives\": N}";
    if (v->is_string()) {
      if (v->get_string() != "leave") fail(path, std::string(expected) + ", got " + shown(v->get_string()));
      c.on_permanent_error = PermanentFailurePolicy{};
    } else if (v->is_object()) {
      ObjReader o(v->get_object(), path, r.warnings());
      auto n = o.integer("delete_after_receives", 1, 1000);
      if (!n) fail(path, expected);
      c.on_permanent_error.delete_after_receives = static_cast<int>(*n);
      o.finish();
    } else {
      fail(path, std::string(expected) + ", got " + std::string(kind_name(*v)));
    }
  }
  if (auto o = r.object("on_sink_failure")) {
    if (auto v = o->integer("give_up_after_flushes", 0, 1000000))
      c.on_sink_failure.give_up_after_flushes = static_cast<int>(*v);
    if (auto v = o->whole_seconds("give_up_after")) c.on_sink_failure.give_up_after = *v;
    o->finish();
  }
  if (auto o = r.object("drain")) {
    if (auto v = o->integer("empty_polls", 1, 1000)) c.drain.empty_polls = static_cast<int>(*v);
    o->finish();
  }
  if (auto o = r.object("run")) {
    if (auto v = o->whole_seconds("shutdown_grace")) c.run.shutdown_grace = *v;
    o->finish();
  }
  if (auto o = r.object("heartbeat")) {
    if (auto v = o->boolean("enabled")) c.heartbeat.enabled = *v;
    if (auto v = o->whole_seconds("interval")) c.heartbeat.interval = *v;
    if (auto v = o->str("tag")) c.heartbeat.tag = *v;
    o->finish();
  }
  if (auto o = r.object("metrics")) {
    if (auto v = o->str("listen")) c.metrics.listen = *v;
    o->finish();
  }
  if (auto o = r.object("integrity")) {
    if (auto v = o->boolean("verify_digests")) c.integrity.verify_digests = *v;
    if (auto v = o->boolean("heal")) c.integrity.heal = *v;
    if (auto v = o->whole_seconds("heal_grace")) c.integrity.heal_grace = *v;
    o->finish();
  }
  if (auto o = r.object("endpoints")) {
    auto& e = c.aws;
    if (auto v = o->str("sqs")) e.sqs_endpoint = *v;
    if (auto v = o->str("s3")) e.s3_endpoint = *v;
    if (auto v = o->str("sts")) e.sts_endpoint = *v;
    if (auto v = o->str("ca_bundle")) e.ca_bundle = *v;
    if (auto v = o->boolean("use_fips")) e.use_fips = *v;
    if (auto v = o->boolean("use_dualstack")) e.use_dualstack = *v;
    if (auto v = o->boolean("s3_force_path_style")) e.s3_force_path_style = *v;
    if (auto v = o->boolean("verify_tls")) e.verify_tls = *v;
    if (auto v = o->duration("connect_timeout")) e.connect_timeout = *v;
    if (auto v = o->duration("read_timeout")) e.read_timeout = *v;
    if (auto v = o->integer("max_attempts", 1, 20)) e.max_attempts = static_cast<int>(*v);
    o->finish();
  }
  if (auto o = r.object("credentials")) {
    auto& cr = c.credentials;
    if (auto v = o->str("session_name")) cr.session_name = *v;
    if (auto v = o->whole_seconds("session_duration")) cr.session_duration = *v;
    if (auto v = o->str("profile")) cr.profile = *v;
    for (auto k : {"aws_access_key_id", "aws_secret_access_key", "aws_cross_account_role",
                   "aws_external_id", "aws_base_account_role"})
      o->ignore(k, "set credentials in inputs.sqs_collector.credentials");
    o->finish();
  }
  if (auto o = r.object("decoder")) {
    if (auto v = o->size("max_object_bytes")) c.decoder.max_object_bytes = *v;
    if (auto v = o->size("max_record_bytes")) c.decoder.max_record_bytes = *v;
    o->finish();
  }
  if (auto v = r.string_list("allowed_buckets")) c.allow.buckets = std::move(*v);
  if (auto v = r.string_list("allowed_accounts")) {
    for (std::size_t i = 0; i < v->size(); ++i) {
      const auto& a = (*v)[i];
      if (a.size() != 12 || !std::all_of(a.begin(), a.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        fail(r.child("allowed_accounts") + "[" + std::to_string(i) + "]",
             "expected a 12-digit AWS account id, got " + shown(a));
    }
    c.allow.accounts = std::move(*v);
  }
  if (auto v = r.string_list("allowed_eventbridge_sources")) c.allow.eventbridge_sources = std::move(*v);
  if (auto o = r.object("tags")) {
    if (auto v = o->integer("max_distinct", 1, 1000000)) c.max_distinct_tags = static_cast<std::size_t>(*v);
    o->finish();
  }
  if (auto v = r.str("ledger")) c.ledger = *v;
  if (auto v = r.whole_seconds("ledger_retention")) c.ledger_retention = *v;
  r.finish();
}

}  // namespace

CollectorConfig CollectorConfig::for_queue(std::string queue_url, std::string_view service,
                                           const ServiceHandlerRegistry* registry) {
  CollectorConfig c;
  c.id = "ctsqs";
  c.source_name = "CollectorConfig::for_queue";
  c.queue_url = std::move(queue_url);
  Diagnostics unused;  // an unusable URL is validate()'s to report
  if (auto q = parse_queue_url(c.queue_url, unused); q && !q->region.empty()) c.aws.region = q->region;
  // The code-first collector has no Devo inactivity alert to feed: heartbeat events would only
  // land in the embedder's sink.
  c.heartbeat.enabled = false;
  const ServiceHandlerRegistry& reg = registry ? *registry : ServiceHandlerRegistry::builtin();
  ServiceSettings settings;
  settings.name = settings.configured_name = std::string(service);
  if (auto handler = reg.find(service)) {
    // The handler's defaults, exactly as `"services": {"<service>": {}}` in a file gives them.
    static const json::object no_options;
    std::vector<ConfigWarning> ignored;
    ObjReader r(no_options, "inputs.sqs_collector.services." + std::string(service), ignored);
    JsonServiceOptions so(r);
    Diagnostics d;
    if (auto parsed = handler->parse_options(so, d)) {
      settings = std::move(*parsed);
      settings.name = std::string(handler->name());
      settings.configured_name = std::string(service);
    }
  }
  // An unknown service stays as named: validate() and build_collector() report it with the
  // known ones.
  c.services.push_back(std::move(settings));
  return c;
}

result<CollectorConfig> parse_collector_config(std::string_view text, std::string_view source_name,
                                               Diagnostics& diag, const ConfigParseOptions& opts) {
  const ServiceHandlerRegistry& registry =
      opts.registry ? *opts.registry : ServiceHandlerRegistry::builtin();
  std::string source(source_name.empty() ? "config" : source_name);

  // Editors on Windows save a UTF-8 byte order mark; JSON parsers reject it.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  json::parse_options po;
  po.allow_comments = true;          // lets examples/collector.json document itself
  po.allow_trailing_commas = true;
  po.max_depth = 64;
  json::parser p(json::storage_ptr(), po);
  boost::system::error_code ec;
  std::size_t n = p.write(text.data(), text.size(), ec);
  if (ec) {
    auto [line, col] = line_col(text, n);
    diag.message = source + ":" + std::to_string(line) + ":" + std::to_string(col) +
                   ": invalid JSON: " + ec.message();
    return make_error_code(client_errc::invalid_argument);
  }
  json::value root = p.release();

  CollectorConfig c;
  c.source_name = source;
  try {
    if (!root.is_object())
      fail("(root)", "expected an object {\"inputs\": {\"sqs_collector\": {...}}}, got " +
                         std::string(kind_name(root)));
    ObjReader r(root.get_object(), "", c.warnings);
    if (auto inputs = r.object("inputs")) {
      if (auto sc = inputs->object("sqs_collector")) {
        parse_sqs_collector(*sc, c, registry, c.warnings);
      } else {
        fail("inputs.sqs_collector", "missing: the SQS collector definition (Devo's template)");
      }
      inputs->finish("ctsqs reads only inputs.sqs_collector");
    } else {
      fail("inputs", "missing: expected {\"inputs\": {\"sqs_collector\": {...}}}");
    }
    if (auto g = r.object("global_overrides")) {
      if (auto v = g->boolean("debug")) c.debug = *v;
      g->finish();
    }
    // The ctsqs section wins over the template's sqs_* keys: parse it last.
    if (auto s = r.object("ctsqs")) parse_ctsqs(*s, c);
    r.finish();
  } catch (const ParseFailure& e) {
    diag.message = source + ": " + e.path + ": " + e.message + warnings_note(c);
    return make_error_code(client_errc::invalid_argument);
  }

  if (c.aws.region.empty()) {
    // endpoints.hpp knows every queue URL form (legacy, VPC endpoint, FIPS, China, ...); an
    // unusable URL is validate()'s to report.
    Diagnostics unused;
    if (auto q = parse_queue_url(c.queue_url, unused); q && !q->region.empty()) c.aws.region = q->region;
  }
  if (opts.validate) {
    if (auto v = validate(c, diag, &registry); !v) return v.error();
  }
  return c;
}

result<CollectorConfig> load_collector_config(const std::filesystem::path& path, Diagnostics& diag,
                                              const ConfigParseOptions& opts) {
  std::error_code fec;
  if (std::filesystem::is_directory(path, fec)) {
    diag.message = path.string() + ": is a directory, expected the collector file (JSON)";
    return make_error_code(client_errc::io_error);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diag.message = path.string() + ": cannot open the collector file";
    return make_error_code(client_errc::io_error);
  }
  // A collector file is a few KiB; refuse to slurp something that clearly is not one.
  constexpr std::size_t max_bytes = 4u << 20;
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      diag.message = path.string() + ": larger than 4 MiB, not a collector file";
      return make_error_code(client_errc::limit_exceeded);
    }
  }
  if (in.bad()) {
    diag.message = path.string() + ": cannot read the collector file";
    return make_error_code(client_errc::io_error);
  }
  return parse_collector_config(text, path.string(), diag, opts);
}

}  // namespace ctsqs
