// Backfill, the pure parts: CloudTrail's key layout, range times, the durable resume state and
// the S3 event notification body of a listed object.
#include "ctsqs/backfill.hpp"
#include "ctsqs/metrics.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ctsqs {

namespace json = boost::json;
using namespace std::chrono;

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::vector<std::string_view> split_slash(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto p = s.find('/', start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

std::optional<SysTime> civil(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // SysTime counts nanoseconds from 1970 and ends in 2262: later years would overflow.
  if (y < 1970 || y > 2200 || !ymd.ok() || h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0)
    return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

/// `_YYYYMMDDTHHMMZ_` (CloudTrail logs) or `_YYYYMMDDTHHMMSSZ` (digests) somewhere in the file name.
std::optional<SysTime> name_time(std::string_view name) {
  for (std::size_t p = name.find('_'); p != std::string_view::npos && p + 15 <= name.size(); p = name.find('_', p + 1)) {
    auto t = name.substr(p + 1, 14);  // YYYYMMDDTHHMMZ
    if (t.size() == 14 && t[8] == 'T' && t[13] == 'Z' && all_digits(t.substr(0, 8)) && all_digits(t.substr(9, 4)))
      return civil(to_int(t.substr(0, 4)), to_int(t.substr(4, 2)), to_int(t.substr(6, 2)), to_int(t.substr(9, 2)),
                   to_int(t.substr(11, 2)));
    auto d = name.substr(p + 1, 16);  // YYYYMMDDTHHMMSSZ
    if (d.size() == 16 && d[8] == 'T' && d[15] == 'Z' && all_digits(d.substr(0, 8)) && all_digits(d.substr(9, 6)))
      return civil(to_int(d.substr(0, 4)), to_int(d.substr(4, 2)), to_int(d.substr(6, 2)), to_int(d.substr(9, 2)),
                   to_int(d.substr(11, 2)), to_int(d.substr(13, 2)));
  }
  return std::nullopt;
}

/// Encodes a key the way S3 event notifications carry it: URL-encoded, '+' for a space.
std::string s3_notification_key(std::string_view key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' || c == '*')
      out += static_cast<char>(c);
    else if (c == ' ')
      out += '+';
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

error_code bad(Diagnostics& diag, std::string message) {
  diag.message = std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

std::string identity_text(const BackfillState::Identity& id) {
  return "mode " + id.mode + ", bucket " + id.bucket + ", prefix \"" + id.prefix + "\", range " +
         format_backfill_time(id.since) + " .. " + format_backfill_time(id.until);
}

}  // namespace

std::optional<LogKey> parse_log_key(std::string_view key) {
  // Find "AWSLogs/" at the start or after a '/'.
  std::size_t at = std::string_view::npos;
  for (std::size_t p = key.find("AWSLogs/"); p != std::string_view::npos; p = key.find("AWSLogs/", p + 1))
    if (p == 0 || key[p - 1] == '/') {
      at = p;
      break;
    }
  if (at == std::string_view::npos) return std::nullopt;
  LogKey k;
  k.prefix = std::string(key.substr(0, at));
  auto parts = split_slash(key.substr(at + 8));
  std::size_t i = 0;
  if (!parts.empty() && parts[0].starts_with("o-")) {
    k.org_id = std::string(parts[0]);
    i = 1;
  }
  // account / kind / region / YYYY / MM / DD / file
  if (parts.size() != i + 7) return std::nullopt;
  if (parts[i].size() != 12 || !all_digits(parts[i])) return std::nullopt;
  k.account = std::string(parts[i]);
  k.kind = std::string(parts[i + 1]);
  if (k.kind != "CloudTrail" && k.kind != "CloudTrail-Insight" && k.kind != "CloudTrail-Digest" &&
      k.kind != "CloudTrail-Insight-Digest" && k.kind != "GuardDuty")
    return std::nullopt;
  k.region = std::string(parts[i + 2]);
  if (k.region.empty()) return std::nullopt;
  auto y = parts[i + 3], m = parts[i + 4], d = parts[i + 5];
  if (y.size() != 4 || m.size() != 2 || d.size() != 2 || !all_digits(y) || !all_digits(m) || !all_digits(d))
    return std::nullopt;
  k.year = to_int(y);
  k.month = to_int(m);
  k.day = to_int(d);
  if (!civil(k.year, k.month, k.day)) return std::nullopt;
  if (parts[i + 6].empty()) return std::nullopt;
  k.file_time = name_time(parts[i + 6]);
  const auto file_at = static_cast<std::size_t>(parts[i + 6].data() - key.data());
  k.day_prefix = std::string(key.substr(0, file_at));
  return k;
}

result<SysTime> parse_backfill_time(std::string_view text, std::string_view what, Diagnostics& diag) {
  auto fail = [&] {
    return bad(diag, std::string(what) + ": expected a UTC date or time such as 2026-09-01 or 2026-09-01T06:00Z, got \"" +
                         std::string(text.substr(0, 40)) + "\"");
  };
  // YYYY-MM-DD[THH:MM[:SS]Z]
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !all_digits(text.substr(0, 4)) ||
      !all_digits(text.substr(5, 2)) || !all_digits(text.substr(8, 2)))
    return fail();
  int h = 0, mi = 0, s = 0;
  auto rest = text.substr(10);
  if (!rest.empty()) {
    if (rest.back() != 'Z' || rest.front() != 'T') return fail();
    rest = rest.substr(1, rest.size() - 2);
    if (rest.size() != 5 && rest.size() != 8) return fail();
    if (rest[2] != ':' || !all_digits(rest.substr(0, 2)) || !all_digits(rest.substr(3, 2))) return fail();
    h = to_int(rest.substr(0, 2));
    mi = to_int(rest.substr(3, 2));
    if (rest.size() == 8) {
      if (rest[5] != ':' || !all_digits(rest.substr(6, 2))) return fail();
      s = to_int(rest.substr(6, 2));
    }
  }
  auto t = civil(to_int(text.substr(0, 4)), to_int(text.substr(5, 2)), to_int(text.substr(8, 2)), h, mi, s);
  if (!t) return fail();
  return *t;
}

std::string format_backfill_time(SysTime t) {
  const auto d = floor<days>(t);
  const year_month_day ymd{d};
  const hh_mm_ss hms{floor<seconds>(t - d)};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld%s", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                hms.seconds().count() ? (":" + std::to_string(100 + hms.seconds().count()).substr(1) + "Z").c_str() : "Z");
  return buf;
}

std::string s3_event_notification_body(const ObjectRef& o, SysTime event_time) {
  const std::string when = format_iso8601(event_time);  // "2026-09-01T06:05:00.000Z", as S3 writes it
  json::object object{{"key", s3_notification_key(o.key)}, {"size", o.size}};
  if (!o.etag.empty()) object.emplace("eTag", o.etag);
  if (!o.version_id.empty()) object.emplace("versionId", o.version_id);
  object.emplace("sequencer", "0");
  json::object record{
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", o.region},
      {"eventTime", when},
      {"eventName", "ObjectCreated:Put"},
      {"userIdentity", json::object{{"principalId", "ctsqs-backfill"}}},
      {"requestParameters", json::object{{"sourceIPAddress", "127.0.0.1"}}},
      {"responseElements", json::object{{"x-amz-request-id", "ctsqs-backfill"}, {"x-amz-id-2", "ctsqs-backfill"}}},
      {"s3", json::object{{"s3SchemaVersion", "1.0"},
                          {"configurationId", "ctsqs-backfill"},
                          {"bucket", json::object{{"name", o.bucket},
                                                  {"ownerIdentity", json::object{{"principalId", "ctsqs-backfill"}}},
                                                  {"arn", "arn:aws:s3:::" + o.bucket}}},
                          {"object", std::move(object)}}}};
  json::object body{{"Records", json::array{std::move(record)}}};
  return json::serialize(body);
}

// ---------------------------------------------------------------------------------------------
// BackfillState

std::optional<SysTime> BackfillState::stored_until(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code jec;
  auto v = json::parse(ss.str(), jec);
  if (jec || !v.is_object()) return std::nullopt;
  auto* u = v.as_object().if_contains("until");
  if (!u || !u->is_string()) return std::nullopt;
  Diagnostics d;
  auto t = parse_backfill_time(std::string_view(u->as_string()), "until", d);
  return t ? std::optional<SysTime>(*t) : std::nullopt;
}

result<std::unique_ptr<BackfillState>> BackfillState::open(const std::filesystem::path& path, Identity identity,
                                                           Diagnostics& diag) {
  auto st = std::make_unique<BackfillState>();
  st->path_ = path;
  st->identity_ = identity;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec))
      return bad(diag, "state file " + path.string() + ": cannot be read: " + std::strerror(errno));
    st->dirty_ = true;  // a new file is written at the first save
    return st;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  boost::system::error_code jec;
  auto v = json::parse(text, jec);
  auto malformed = [&](const std::string& what) {
    return bad(diag, "state file " + path.string() + ": " + what +
                         " (not a ctsqs backfill state, or damaged; remove it to start over)");
  };
  if (jec || !v.is_object()) return malformed("not a JSON object");
  const auto& o = v.as_object();
  auto str = [&](const char* k) -> std::optional<std::string> {
    auto* p = o.if_contains(k);
    if (!p || !p->is_string()) return std::nullopt;
    return std::string(p->as_string());
  };
  auto* ver = o.if_contains("ctsqs_backfill_state");
  if (!ver || !ver->is_int64() || ver->as_int64() != 1) return malformed("no \"ctsqs_backfill_state\": 1");
  auto mode = str("mode"), bucket = str("bucket"), prefix = str("prefix"), since = str("since"), until = str("until");
  if (!mode || !bucket || !prefix || !since || !until) return malformed("mode, bucket, prefix, since or until missing");
  Diagnostics td;
  auto s = parse_backfill_time(*since, "since", td);
  auto u = parse_backfill_time(*until, "until", td);
  if (!s || !u) return malformed("since/until: " + td.message);
  Identity found{*mode, *bucket, *prefix, *s, *u};
  if (!(found == identity))
    return bad(diag, "state file " + path.string() + " belongs to another backfill (" + identity_text(found) +
                         "), not this one (" + identity_text(identity) +
                         "); use another --state file, or remove it to start over");
  auto* days = o.if_contains("days");
  if (!days || !days->is_object()) return malformed("no \"days\" object");
  for (const auto& [k, dv] : days->as_object()) {
    if (!dv.is_object()) return malformed("day " + std::string(k) + " is not an object");
    Day d;
    const auto& dobj = dv.as_object();
    if (auto* c = dobj.if_contains("complete"); c && c->is_bool()) d.complete = c->as_bool();
    if (auto* h = dobj.if_contains("after"); h && h->is_string()) d.high_water = std::string(h->as_string());
    if (auto* dn = dobj.if_contains("done"); dn && dn->is_array())
      for (const auto& e : dn->as_array())
        if (e.is_string()) d.done.insert(std::string(e.as_string()));
    st->days_.emplace(std::string(k), std::move(d));
  }
  return st;
}

bool BackfillState::day_complete(const std::string& day_prefix) const {
  auto it = days_.find(day_prefix);
  return it != days_.end() && it->second.complete;
}

std::string BackfillState::high_water(const std::string& day_prefix) const {
  auto it = days_.find(day_prefix);
  return it == days_.end() ? std::string() : it->second.high_water;
}

bool BackfillState::done(const std::string& day_prefix, const std::string& key) const {
  auto it = days_.find(day_prefix);
  if (it == days_.end()) return false;
  const Day& d = it->second;
  return d.complete || (!d.high_water.empty() && key <= d.high_water) || d.done.count(key) > 0;
}

void BackfillState::day_listed(const std::string& day_prefix, const std::vector<std::string>& pending) {
  Day& d = days_[day_prefix];
  d.listed = true;
  d.pending.insert(pending.begin(), pending.end());
  advance(d);
  dirty_ = true;
}

void BackfillState::mark_done(const std::string& day_prefix, const std::string& key) {
  Day& d = days_[day_prefix];
  if (d.pending.erase(key) == 0 && done(day_prefix, key)) return;
  if (d.high_water.empty() || key > d.high_water) d.done.insert(key);
  ++done_this_run_;
  advance(d);
  dirty_ = true;
}

// Moves the high water up over the done keys below the first pending one; a day whose listing
// ended with nothing pending is complete.
void BackfillState::advance(Day& d) {
  if (d.listed && d.pending.empty()) {
    d.complete = true;
    d.done.clear();
    d.high_water.clear();
    return;
  }
  const std::string* first_pending = d.pending.empty() ? nullptr : &*d.pending.begin();
  while (!d.done.empty() && (first_pending == nullptr || *d.done.begin() < *first_pending)) {
    d.high_water = *d.done.begin();
    d.done.erase(d.done.begin());
  }
}

std::string BackfillState::serialize() const {
  json::object days;
  for (const auto& [k, d] : days_) {
    json::object o;
    if (d.complete) {
      o.emplace("complete", true);
    } else {
      if (!d.high_water.empty()) o.emplace("after", d.high_water);
      json::array done;
      for (const auto& key : d.done) done.emplace_back(key);
      if (!done.empty()) o.emplace("done", std::move(done));
      if (o.empty()) continue;  // listed, nothing done yet
    }
    days.emplace(k, std::move(o));
  }
  json::object root{{"ctsqs_backfill_state", 1},
                    {"mode", identity_.mode},
                    {"bucket", identity_.bucket},
                    {"prefix", identity_.prefix},
                    {"since", format_backfill_time(identity_.since)},
                    {"until", format_backfill_time(identity_.until)},
                    {"days", std::move(days)}};
  return json::serialize(root) + "\n";
}

result<void> BackfillState::save(Diagnostics& diag) {
  if (path_.empty() || !dirty_) return {};
  const std::string text = serialize();
  const std::filesystem::path tmp = path_.string() + ".tmp";
  auto sys_fail = [&](const std::string& what) {
    diag.message = "state file " + path_.string() + ": " + what + ": " + std::strerror(errno);
    return make_error_code(client_errc::io_error);
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return sys_fail("cannot create " + tmp.string());
  std::size_t off = 0;
  while (off < text.size()) {
    const auto n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const auto e = sys_fail("cannot write " + tmp.string());
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const auto e = sys_fail("cannot fsync " + tmp.string());
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    const auto e = sys_fail("cannot rename " + tmp.string());
    ::unlink(tmp.c_str());
    return e;
  }
  const auto dir = path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return sys_fail("cannot open directory " + dir.string());
  const int r = ::fsync(dfd);
  ::close(dfd);
  if (r != 0) return sys_fail("cannot fsync directory " + dir.string());
  dirty_ = false;
  return {};
}

}  // namespace ctsqs
