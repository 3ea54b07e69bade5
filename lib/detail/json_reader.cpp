// The generic JSON reading of configuration files (lib/detail/json_reader.hpp): the object
// reader with JSON paths and unknown-key warnings, durations and sizes as text, ServiceOptions
// over JSON. No schema here: the collector file's is in collector_config.cpp.
#include "json_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "config_text.hpp"

namespace ctsqs::json_config {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using namespace config_text;

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

ObjReader::ObjReader(const json::object& o, std::string path, std::vector<ConfigWarning>& warnings)
    : obj_(&o), path_(std::move(path)), warnings_(&warnings), used_(o.size(), false) {}

std::string ObjReader::child(std::string_view key) const { return join_path(path_, key); }

std::vector<std::string> ObjReader::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : *obj_) out.emplace_back(kv.key());
  return out;
}

const json::value* ObjReader::take(std::string_view key) {
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

void ObjReader::ignore(std::string_view key, std::string_view why) {
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

std::optional<std::string> ObjReader::str(std::string_view key) {
  auto v = take(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(child(key), "expected a string, got " + std::string(kind_name(*v)));
  return std::string(v->get_string());
}

std::optional<bool> ObjReader::boolean(std::string_view key) {
  auto v = take(key);
  if (!v) return std::nullopt;
  if (!v->is_bool()) fail(child(key), "expected true or false, got " + std::string(kind_name(*v)));
  return v->get_bool();
}

std::optional<std::int64_t> ObjReader::integer(std::string_view key, std::int64_t min, std::int64_t max) {
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

std::optional<milliseconds> ObjReader::duration(std::string_view key) {
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

std::optional<seconds> ObjReader::whole_seconds(std::string_view key) {
  auto d = duration(key);
  if (!d) return std::nullopt;
  if (d->count() % 1000 != 0) fail(child(key), "expected whole seconds");
  return std::chrono::duration_cast<seconds>(*d);
}

std::optional<std::uint64_t> ObjReader::size(std::string_view key) {
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

std::optional<ObjReader> ObjReader::object(std::string_view key) {
  auto v = take(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) fail(child(key), "expected an object, got " + std::string(kind_name(*v)));
  return ObjReader(v->get_object(), child(key), *warnings_);
}

std::optional<std::vector<std::string>> ObjReader::string_list(std::string_view key) {
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

void ObjReader::finish(std::string_view hint) {
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

std::string ObjReader::nearest(std::string_view key) const {
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

namespace {

template <class F>
auto guard(Diagnostics& d, F f) -> result<decltype(f())> {
  try {
    return f();
  } catch (const ParseFailure& e) {
    d.message = e.path + ": " + e.message;
    return result<decltype(f())>(boost::system::in_place_error, make_error_code(client_errc::invalid_argument));
  }
}

}  // namespace

result<std::optional<std::string>> JsonServiceOptions::get_string(std::string_view key, Diagnostics& d) {
  return guard(d, [&] { return r_.str(key); });
}
result<std::optional<bool>> JsonServiceOptions::get_bool(std::string_view key, Diagnostics& d) {
  return guard(d, [&] { return r_.boolean(key); });
}
result<std::optional<std::int64_t>> JsonServiceOptions::get_int(std::string_view key, Diagnostics& d) {
  return guard(d, [&] {
    return r_.integer(key, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
  });
}
result<std::optional<std::vector<std::string>>> JsonServiceOptions::get_string_list(std::string_view key,
                                                                                    Diagnostics& d) {
  return guard(d, [&] { return r_.string_list(key); });
}

}  // namespace ctsqs::json_config
