// Collector file parser: Devo's SQS collector template (`inputs.sqs_collector`, its services
// through the handler registry) and the `ctsqs` section, read with Boost.JSON; every error names
// the file, the JSON path and what was expected. Validation is in collector_config_validate.cpp,
// the redacted summary in collector_config_summary.cpp.
#include "ctsqs/collector_config.hpp"

#include "ctsqs/endpoints.hpp"

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

namespace ctsqs {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using namespace config_text;

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

// ---------------------------------------------------------------------------------------------
// Parsing. Invalid configuration is reported by throwing ParseFailure inside this file (the
// design allows exceptions for invalid configuration); the public API returns result<>.

struct ParseFailure {
  std::string path;
  std::string message;
};

[[noreturn]] void fail(std::string path, std::string message) {
  throw ParseFailure{std::move(path), std::move(message)};
}

std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

/// Parses "20", "1.5" (seconds) or "500ms", "20s", "5m", "1h", "1h30m", "35d".
std::optional<milliseconds> parse_duration_text(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double total_ms = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) ++i;
    if (i == 0) return std::nullopt;
    double num = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + i, num);
    if (ec != std::errc{} || p != s.data() + i) return std::nullopt;
    s.remove_prefix(i);
    std::size_t j = 0;
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
    auto unit = s.substr(0, j);
    s.remove_prefix(j);
    double scale;
    if (unit == "ms") scale = 1;
    else if (unit == "s" || (unit.empty() && s.empty() && total_ms == 0)) scale = 1000;
    else if (unit == "m" || unit == "min") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else return std::nullopt;
    total_ms += num * scale;
    if (total_ms > 1e15) return std::nullopt;
  }
  return milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

/// Parses "1048576", "64KiB", "512MiB", "1GiB", "100MB".
std::optional<std::uint64_t> parse_size_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == 0) return std::nullopt;
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + i, n);
  if (ec != std::errc{}) return std::nullopt;
  auto unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  std::uint64_t scale;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KiB") scale = 1ull << 10;
  else if (unit == "MiB") scale = 1ull << 20;
  else if (unit == "GiB") scale = 1ull << 30;
  else if (unit == "KB" || unit == "kB") scale = 1000;
  else if (unit == "MB") scale = 1000 * 1000;
  else if (unit == "GB") scale = 1000 * 1000 * 1000;
  else return std::nullopt;
  if (n > std::numeric_limits<std::uint64_t>::max() / scale) return std::nullopt;
  return n * scale;
}

/// Reads one JSON object member by member; members never asked for become "unknown key"
/// warnings in finish().
class ObjReader {
 public:
  ObjReader(const json::object& o, std::string path, std::vector<ConfigWarning>& warnings)
      : obj_(&o), path_(std::move(path)), warnings_(&warnings), used_(o.size(), false) {}

  const std::string& path() const { return path_; }
  std::string child(std::string_view key) const { return join_path(path_, key); }

  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& kv : *obj_) out.emplace_back(kv.key());
    return out;
  }

  /// The member, marked used; nullptr when absent or JSON null.
  const json::value* take(std::string_view key) {
    asked_.emplace_back(key);
    std::size_t i = 0;
    const json::value* found = nullptr;
    for (const auto& kv : *obj_) {
      if (kv.key() == key) {
        used_[i] = true;
        found = &kv.value();
      }
      ++i;
    }
    return (found && !found->is_null()) ? found : nullptr;
  }

  bool has(std::string_view key) const { return obj_->contains(key); }
  std::vector<ConfigWarning>& warnings() const { return *warnings_; }

  void ignore(std::string_view key, std::string_view why) {
    asked_.emplace_back(key);
    std::size_t i = 0;
    for (const auto& kv : *obj_) {
      if (kv.key() == key && !used_[i]) {
        used_[i] = true;
        warnings_->push_back({child(key), std::string(why)});
      }
      ++i;
    }
  }

  std::optional<std::string> str(std::string_view key) {
    auto v = take(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail(child(key), "expected a string, got " + std::string(kind_name(*v)));
    return std::string(v->get_string());
  }

  std::optional<bool> boolean(std::string_view key) {
    auto v = take(key);
    if (!v) return std::nullopt;
    if (!v->is_bool()) fail(child(key), "expected true or false, got " + std::string(kind_name(*v)));
    return v->get_bool();
  }

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) {
    auto v = take(key);
    if (!v) return std::nullopt;
    auto range = " between " + std::to_string(min) + " and " + std::to_string(max);
    std::int64_t n = 0;
    if (v->is_int64()) {
      n = v->get_int64();
    } else if (v->is_uint64()) {
      fail(child(key), "expected an integer" + range);
    } else if (v->is_double()) {
      double d = v->get_double();
      if (!(std::floor(d) == d) || d < -9.0e18 || d > 9.0e18)
        fail(child(key), "expected an integer" + range);
      n = static_cast<std::int64_t>(d);
    } else {
      fail(child(key), "expected an integer" + range + ", got " + std::string(kind_name(*v)));
    }
    if (n < min || n > max)
      fail(child(key), "expected an integer" + range + ", got " + std::to_string(n));
    return n;
  }

  /// A number of seconds (fractions allowed) or a string such as "500ms", "20s", "5m", "1h".
  std::optional<milliseconds> duration(std::string_view key) {
    auto v = take(key);
    if (!v) return std::nullopt;
    static constexpr const char* expected =
        "expected a duration: seconds as a number, or a string such as \"500ms\", \"20s\", \"5m\", "
        "\"1h\"";
    std::optional<milliseconds> d;
    if (v->is_int64() || v->is_uint64() || v->is_double()) {
      double s = v->to_number<double>();
      if (!(s >= 0) || s > 1e12) fail(child(key), expected);
      d = milliseconds(static_cast<std::int64_t>(std::llround(s * 1000)));
    } else if (v->is_string()) {
      d = parse_duration_text(v->get_string());
      if (!d) fail(child(key), std::string(expected) + ", got " + shown(v->get_string()));
    } else {
      fail(child(key), std::string(expected) + ", got " + std::string(kind_name(*v)));
    }
    return d;
  }

  std::optional<seconds> whole_seconds(std::string_view key) {
    auto d = duration(key);
    if (!d) return std::nullopt;
    if (d->count() % 1000 != 0) fail(child(key), "expected whole seconds");
    return std::chrono::duration_cast<seconds>(*d);
  }

  /// A byte count as an integer or a string such as "64MiB".
  std::optional<std::uint64_t> size(std::string_view key) {
    auto v = take(key);
    if (!v) return std::nullopt;
    static constexpr const char* expected =
        "expected a size in bytes: an integer or a string such as \"64MiB\", \"1GiB\"";
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_string()) {
      if (auto n = parse_size_text(v->get_string())) return n;
      fail(child(key), std::string(expected) + ", got " + shown(v->get_string()));
    }
    fail(child(key), std::string(expected) + ", got " + std::string(kind_name(*v)));
  }

  /// A nested object reader, or nullopt when absent.
  std::optional<ObjReader> object(std::string_view key) {
    auto v = take(key);
    if (!v) return std::nullopt;
    if (!v->is_object()) fail(child(key), "expected an object, got " + std::string(kind_name(*v)));
    return ObjReader(v->get_object(), child(key), *warnings_);
  }

  /// An array of strings, or a string with a comma-separated list.
  std::optional<std::vector<std::string>> string_list(std::string_view key) {
    auto v = take(key);
    if (!v) return std::nullopt;
    std::vector<std::string> out;
    if (v->is_string()) {
      for (auto part : split(v->get_string(), ',')) {
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty()) out.emplace_back(part);
      }
      return out;
    }
    if (!v->is_array())
      fail(child(key), "expected an array of strings, got " + std::string(kind_name(*v)));
    std::size_t i = 0;
    for (const auto& e : v->get_array()) {
      if (!e.is_string())
        fail(child(key) + "[" + std::to_string(i) + "]",
             "expected a string, got " + std::string(kind_name(e)));
      out.emplace_back(e.get_string());
      ++i;
    }
    return out;
  }

  /// Warns about every member never asked for.
  void finish(std::string_view hint = {}) {
    std::size_t i = 0;
    for (const auto& kv : *obj_) {
      if (!used_[i]) {
        std::string msg = "unknown key, ignored";
        if (auto near = nearest(kv.key()); !near.empty()) msg += " (did you mean \"" + near + "\"?)";
        else if (!hint.empty()) msg += " (" + std::string(hint) + ")";
        warnings_->push_back({child(kv.key()), std::move(msg)});
      }
      ++i;
    }
  }

 private:
  /// The known key closest to a misspelt one (case-insensitive edit distance <= 2, or <= 1 for
  /// short keys), or "".
  std::string nearest(std::string_view key) const {
    if (key.size() > 64) return {};
    auto a = lower(key);
    std::string best;
    std::size_t best_d = a.size() < 5 ? 2 : 3;
    for (const auto& known : asked_) {
      auto b = lower(known);
      std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
      for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
      for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
          cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
      }
      if (prev[b.size()] < best_d) {
        best_d = prev[b.size()];
        best = known;
      }
    }
    return best;
  }

  std::vector<std::string> asked_;
  const json::object* obj_;
  std::string path_;
  std::vector<ConfigWarning>* warnings_;
  std::vector<bool> used_;
};

/// ServiceOptions over a JSON object, for ServiceHandler::parse_options.
class JsonServiceOptions final : public ServiceOptions {
 public:
  explicit JsonServiceOptions(ObjReader& r) : r_(r) {}
  const std::string& path() const override { return r_.path(); }
  std::vector<std::string> keys() const override { return r_.keys(); }

  result<std::optional<std::string>> get_string(std::string_view key, Diagnostics& d) override {
    return guard(d, [&] { return r_.str(key); });
  }
  result<std::optional<bool>> get_bool(std::string_view key, Diagnostics& d) override {
    return guard(d, [&] { return r_.boolean(key); });
  }
  result<std::optional<std::int64_t>> get_int(std::string_view key, Diagnostics& d) override {
    return guard(d, [&] {
      return r_.integer(key, std::numeric_limits<std::int64_t>::min(),
                        std::numeric_limits<std::int64_t>::max());
    });
  }
  result<std::optional<std::vector<std::string>>> get_string_list(std::string_view key,
                                                                  Diagnostics& d) override {
    return guard(d, [&] { return r_.string_list(key); });
  }
  void ignore(std::string_view key, std::string_view why) override { r_.ignore(key, why); }

 private:
  template <class F>
  static auto guard(Diagnostics& d, F f) -> result<decltype(f())> {
    try {
      return f();
    } catch (const ParseFailure& e) {
      d.message = e.path + ": " + e.message;
      return result<decltype(f())>(boost::system::in_place_error,
                                   make_error_code(client_errc::invalid_argument));
    }
  }
  ObjReader& r_;
};

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

void parse_ctsqs(ObjReader& r, CollectorConfig& c, bool& extension_set) {
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
    if (auto v = o->whole_seconds("visibility_extension_interval")) {
      c.sqs.visibility_extension_interval = *v;
      extension_set = true;
    }
    o->finish();
  }
  if (auto v = r.take("on_permanent_error")) {
    auto path = r.child("on_permanent_error");
    static constexpr const char* expected =
        "expected \"leave\" (the queue's dead-letter queue takes it) or "
        "{\"delete_after_receives\": N}";
    if (v->is_string()) {
      if (v->get_string() != "leave") fail(path, std::string(expected) + ", got " + shown(v->get_string()));
      c.on_permanent_error = PermanentErrorPolicy{};
    } else if (v->is_object()) {
      ObjReader o(v->get_object(), path, r.warnings());
      auto n = o.integer("delete_after_receives", 1, 1000);
      if (!n) fail(path, expected);
      c.on_permanent_error.action = PermanentErrorPolicy::Action::delete_after_receives;
      c.on_permanent_error.receives = static_cast<int>(*n);
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

namespace {

/// "line L, column C" of a byte offset.
std::pair<std::size_t, std::size_t> line_col(std::string_view text, std::size_t offset) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

}  // namespace

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
    bool extension_set = false;
    if (auto s = r.object("ctsqs")) parse_ctsqs(*s, c, extension_set);
    // Unless set, extend visibility three times per timeout, so one late extension is harmless.
    if (!extension_set) c.sqs.visibility_extension_interval = std::max(seconds(1), c.sqs.visibility_timeout / 3);
    r.finish();
  } catch (const ParseFailure& e) {
    diag.message = source + ": " + e.path + ": " + e.message + warnings_note(c);
    return make_error_code(client_errc::invalid_argument);
  }

  if (c.aws.region.empty()) {
    // endpoints.hpp knows every queue URL form (legacy, VPC endpoint, FIPS, China, ...).
    if (auto q = parse_queue_url(c.queue_url); q && !q->region.empty()) c.aws.region = q->region;
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
