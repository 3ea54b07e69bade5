// Collector file parser (Boost.JSON), validation and the redacted summary.
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

namespace ctsqs {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---------------------------------------------------------------------------------------------
// Small public checks

bool is_placeholder(std::string_view v) noexcept {
  auto open = v.find('<');
  if (open == std::string_view::npos) return false;
  auto close = v.find('>', open + 1);
  return close != std::string_view::npos;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool all_of(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// A value safe to echo in an error: printable, at most 80 characters.
std::string shown(std::string_view v) {
  std::string out = "\"";
  std::size_t n = 0;
  for (char c : v) {
    if (++n > 80) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out + "\"";
}

bool is_aws_host(std::string_view host) {
  return host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn") ||
         host.ends_with(".api.aws") || host == "queue.amazonaws.com";
}

}  // namespace

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

std::string join_path(const std::string& base, std::string_view key) {
  std::string k;
  bool plain = !key.empty();
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) plain = false;
  if (plain) {
    k = std::string(key);
  } else {
    k = shown(key);
  }
  return base.empty() ? k : base + "." + k;
}

/// Parses "20", "1.5" (seconds) or "500ms", "20s", "5m", "1h", "1h30m".
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
  r.finish();
}

}  // namespace

namespace {

/// The warnings, one per line, appended to an error: a misspelt key often explains it.
std::string warnings_note(const CollectorConfig& c) {
  std::string out;
  const std::string source = c.source_name.empty() ? "config" : c.source_name;
  for (const auto& w : c.warnings) out += "\n" + source + ": warning: " + w.path + ": " + w.message;
  return out;
}

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
  if (auto r = parse_queue_url(url, &d); !r) is.add(path, d.message.empty() ? "not a usable queue URL" : d.message);
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

std::vector<ConfigIssue> validation_issues(const CollectorConfig& c, const ServiceHandlerRegistry* registry) {
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
  if (auto q = parse_queue_url(c.queue_url); q && !q->region.empty()) from_url = q->region;
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
    if (auto m = handler->check(s, path); !m.empty()) {
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
  // concurrency and SQS
  const auto& q = c.sqs;
  if (q.wait_time < seconds(0) || q.wait_time > seconds(20))
    is.add("ctsqs.sqs.wait_time", "expected 0 to 20 seconds (SQS's WaitTimeSeconds range)");
  if (q.max_messages < 1 || q.max_messages > 10)
    is.add("ctsqs.sqs.max_messages", "expected 1 to 10 (SQS's MaxNumberOfMessages range)");
  if (q.visibility_timeout < seconds(1) || q.visibility_timeout > seconds(43200))
    is.add("ctsqs.sqs.visibility_timeout", "expected 1 s to 43200 s (12 hours, SQS's limit)");
  else if (q.visibility_extension_interval < seconds(1) || q.visibility_extension_interval >= q.visibility_timeout)
    is.add("ctsqs.sqs.visibility_extension_interval",
           "expected at least 1 s and less than visibility_timeout (" +
               std::to_string(q.visibility_timeout.count()) + " s), so messages are extended before they reappear");
  if (c.concurrency.messages_in_flight < 1) is.add("ctsqs.concurrency.messages_in_flight", "expected at least 1");
  if (c.concurrency.objects_in_flight < 1) is.add("ctsqs.concurrency.objects_in_flight", "expected at least 1");
  if (c.concurrency.receives_in_flight < 1) is.add("ctsqs.concurrency.receives_in_flight", "expected at least 1");
  if (c.on_permanent_error.action == PermanentErrorPolicy::Action::delete_after_receives &&
      c.on_permanent_error.receives < 1)
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
                      const ServiceHandlerRegistry* registry) {
  auto issues = validation_issues(config, registry);
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

// ---------------------------------------------------------------------------------------------
// Summary

namespace {
std::string secs(seconds s) { return std::to_string(s.count()) + "s"; }
std::string msecs(milliseconds m) {
  return m.count() % 1000 == 0 ? std::to_string(m.count() / 1000) + "s" : std::to_string(m.count()) + "ms";
}
const char* yn(bool b) { return b ? "true" : "false"; }
std::string or_unset(const std::string& s, const char* unset = "(unset)") { return s.empty() ? unset : s; }
}  // namespace

std::string describe(const CollectorConfig& c) {
  std::ostringstream os;
  os << "collector " << or_unset(c.id) << " from " << or_unset(c.source_name, "(memory)")
     << (c.enabled ? "" : " [DISABLED]") << '\n';
  os << "  queue: " << or_unset(c.queue_url) << " (region " << or_unset(c.aws.region) << ")\n";
  const auto& cr = c.credentials;
  os << "  credentials: ";
  if (!cr.access_key_id.empty()) {
    // A real key id is 16+ characters; its first four say only the kind (AKIA, ASIA).
    os << "static key "
       << (cr.access_key_id.size() >= 16 ? cr.access_key_id.substr(0, 4) + "..." : std::string("(redacted)"))
       << " (secret " << (cr.secret_access_key.empty() ? "missing" : "redacted") << ")";
  } else {
    os << "default chain" << (cr.profile.empty() ? "" : " (profile " + cr.profile + ")");
  }
  if (!cr.base_account_role.empty()) os << "; base role " << cr.base_account_role;
  if (!cr.cross_account_role.empty()) os << "; cross-account role " << cr.cross_account_role;
  // The external id guards against the confused deputy: shown as present, never its value.
  if (!cr.external_id.empty()) os << " (with external id)";
  os << "; session " << cr.session_name << " for " << secs(cr.session_duration) << '\n';
  os << "  services:";
  // With several services, each on its own line with the rule that decides what it takes.
  const bool several = c.services.size() > 1;
  for (const auto& s : c.services) {
    os << (several ? "\n    " : " ") << s.name;
    if (s.configured_name != s.name && !s.configured_name.empty()) os << " (as " << s.configured_name << ")";
    os << " -> " << s.routing_template << " [";
    if (s.aws_services.empty()) os << "all AWS services";
    for (std::size_t i = 0; i < s.aws_services.size(); ++i) os << (i ? "," : "") << s.aws_services[i];
    os << ']';
    if (s.ack_messages) os << " ack_messages=" << yn(*s.ack_messages);
    if (several) os << "; claims: " << describe(s.claim);
  }
  os << '\n';
  os << "  flags: ack_messages=" << yn(c.ack_messages) << " direct_mode=" << yn(c.direct_mode)
     << " do_not_send=" << yn(c.do_not_send) << " compressed_events=" << yn(c.compressed_events)
     << " debug=" << yn(c.debug) << '\n';
  os << "  outputs:";
  if (c.outputs.empty()) os << " stdout (flat, default)";
  if (c.outputs.standard_output) os << " stdout (" << to_string(c.outputs.standard_output->format) << ")";
  if (c.outputs.directory)
    os << " directory " << c.outputs.directory->path.string() << " (" << to_string(c.outputs.directory->format) << ")";
  if (c.outputs.devo) {
    const auto& d = *c.outputs.devo;
    os << " devo " << (d.address.empty() ? "region " + or_unset(d.region) : d.address) << ':' << d.port
       << (d.tls ? " tls" : " tcp");
    if (!d.cert_file.empty()) os << " cert " << d.cert_file;
  }
  os << '\n';
  os << "  concurrency: messages " << c.concurrency.messages_in_flight << ", objects ";
  if (c.concurrency.adaptive_objects_in_flight)
    os << "auto (from " << c.concurrency.objects_in_flight << ", at most " << c.concurrency.max_objects_in_flight << ")";
  else
    os << c.concurrency.objects_in_flight;
  os << ", receives " << c.concurrency.receives_in_flight << '\n';
  os << "  sqs: wait " << secs(c.sqs.wait_time) << ", max " << c.sqs.max_messages << " messages, visibility "
     << secs(c.sqs.visibility_timeout) << " extended every " << secs(c.sqs.visibility_extension_interval) << '\n';
  os << "  on permanent error: "
     << (c.on_permanent_error.action == PermanentErrorPolicy::Action::leave
             ? std::string("leave for the dead-letter queue")
             : "delete after " + std::to_string(c.on_permanent_error.receives) + " receives")
     << '\n';
  os << "  on sink failure: "
     << (c.on_sink_failure.give_up_after_flushes == 0
             ? std::string("keep trying")
             : "give up after " + std::to_string(c.on_sink_failure.give_up_after_flushes) +
                   " failed flushes in a row over at least " + secs(c.on_sink_failure.give_up_after))
     << '\n';
  os << "  drain: stop after " << c.drain.empty_polls << " empty polls; run: shutdown grace "
     << secs(c.run.shutdown_grace) << '\n';
  os << "  heartbeat: "
     << (c.heartbeat.enabled ? "every " + secs(c.heartbeat.interval) + " tag " + c.heartbeat.tag : std::string("off"))
     << "; metrics: " << (c.metrics.listen ? *c.metrics.listen : std::string("off")) << '\n';
  const auto& e = c.aws;
  os << "  endpoints: sqs " << or_unset(e.sqs_endpoint, "(default)") << ", s3 " << or_unset(e.s3_endpoint, "(default)")
     << ", sts " << or_unset(e.sts_endpoint, "(default)") << "; fips=" << yn(e.use_fips)
     << " dualstack=" << yn(e.use_dualstack) << " path_style=" << yn(e.s3_force_path_style)
     << " verify_tls=" << yn(e.verify_tls) << (e.ca_bundle.empty() ? "" : " ca_bundle " + e.ca_bundle)
     << "; timeouts connect " << msecs(e.connect_timeout) << " read " << msecs(e.read_timeout)
     << ", attempts " << (e.max_attempts == 0 ? std::string("AWS_MAX_ATTEMPTS / profile / 3") : std::to_string(e.max_attempts))
     << '\n';
  const auto dec = apply(c.decoder);
  os << "  decoder: max object " << dec.max_object_bytes << " bytes"
     << (c.decoder.max_object_bytes ? "" : " (default)") << ", max record " << dec.max_record_bytes
     << " bytes" << (c.decoder.max_record_bytes ? "" : " (default)") << '\n';
  return os.str();
}

}  // namespace ctsqs
