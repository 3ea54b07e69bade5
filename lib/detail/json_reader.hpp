// The generic JSON reading of configuration files (Boost.JSON), apart from any schema: an object
// reader that names the JSON path of every error and warns about unknown keys, durations and
// sizes as text, ServiceOptions over a JSON object. lib/ only: the collector file's parser
// (collector_config.cpp) is its user.
#pragma once

#include "ctsqs/collector/config.hpp"
#include "ctsqs/decode/service_handler.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctsqs::json_config {

/// Invalid configuration at `path`: thrown inside the parser (exceptions are allowed for invalid
/// configuration), turned into result<> + Diagnostics at the public API.
struct ParseFailure {
  std::string path;
  std::string message;
};

/// Throws ParseFailure{path, message}.
[[noreturn]] void fail(std::string path, std::string message);

/// "a string", "an object", ... for error messages.
std::string_view kind_name(const boost::json::value& v);

/// Parses "20", "1.5" (seconds) or "500ms", "20s", "5m", "1h", "1h30m", "35d".
std::optional<std::chrono::milliseconds> parse_duration_text(std::string_view s);

/// Parses "1048576", "64KiB", "512MiB", "1GiB", "100MB".
std::optional<std::uint64_t> parse_size_text(std::string_view s);

/// Line and column (1-based) of a byte offset in `text`.
std::pair<std::size_t, std::size_t> line_col(std::string_view text, std::size_t offset);

/// Reads one JSON object member by member; members never asked for become "unknown key"
/// warnings in finish(). Every getter returns nullopt for an absent (or null) member and throws
/// ParseFailure naming the member's path for a value of the wrong type or range.
class ObjReader {
 public:
  ObjReader(const boost::json::object& o, std::string path, std::vector<ConfigWarning>& warnings);

  const std::string& path() const { return path_; }
  std::string child(std::string_view key) const;
  std::vector<std::string> keys() const;

  /// The member, marked used; nullptr when absent or JSON null.
  const boost::json::value* take(std::string_view key);
  bool has(std::string_view key) const { return obj_->contains(key); }
  std::vector<ConfigWarning>& warnings() const { return *warnings_; }
  /// Marks `key` used and, when present, warns that it is ignored and why.
  void ignore(std::string_view key, std::string_view why);

  std::optional<std::string> str(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  /// A number of seconds (fractions allowed) or a string such as "500ms", "20s", "5m", "1h".
  std::optional<std::chrono::milliseconds> duration(std::string_view key);
  std::optional<std::chrono::seconds> whole_seconds(std::string_view key);
  /// A byte count as an integer or a string such as "64MiB".
  std::optional<std::uint64_t> size(std::string_view key);
  /// A nested object reader, or nullopt when absent.
  std::optional<ObjReader> object(std::string_view key);
  /// An array of strings, or a string with a comma-separated list.
  std::optional<std::vector<std::string>> string_list(std::string_view key);
  /// Warns about every member never asked for (with the nearest known key, else `hint`).
  void finish(std::string_view hint = {});

 private:
  std::string nearest(std::string_view key) const;

  std::vector<std::string> asked_;
  const boost::json::object* obj_;
  std::string path_;
  std::vector<ConfigWarning>* warnings_;
  std::vector<bool> used_;
};

/// ServiceOptions over a JSON object, for ServiceHandler::parse_options: errors become
/// client_errc::invalid_argument with "<path>: <message>" in the diagnostics.
class JsonServiceOptions final : public ServiceOptions {
 public:
  explicit JsonServiceOptions(ObjReader& r) : r_(r) {}
  const std::string& path() const override { return r_.path(); }
  std::vector<std::string> keys() const override { return r_.keys(); }
  result<std::optional<std::string>> get_string(std::string_view key, Diagnostics& d) override;
  result<std::optional<bool>> get_bool(std::string_view key, Diagnostics& d) override;
  result<std::optional<std::int64_t>> get_int(std::string_view key, Diagnostics& d) override;
  result<std::optional<std::vector<std::string>>> get_string_list(std::string_view key,
                                                                  Diagnostics& d) override;
  void ignore(std::string_view key, std::string_view why) override { r_.ignore(key, why); }

 private:
  ObjReader& r_;
};

}  // namespace ctsqs::json_config
