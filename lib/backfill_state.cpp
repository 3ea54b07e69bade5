// Backfill, the pure parts: CloudTrail's key layout, range times, the durable resume state and
// the S3 event notification body of a listed object.
#include "ctsqs/backfill/backfill.hpp"
#include "detail/text.hpp"
#include "ctsqs/collector/metrics.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fcntl.h>
#include <sys/file.h>
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

using detail::all_digits;

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
         format_backfill_time(id.since) + " .. " + format_backfill_time(id.until) + ", delivering " +
         (id.delivery.empty() ? "every event" : id.delivery);
}

// Completed days are stored per directory (the day prefix without "YYYY/MM/DD/") as runs of
// consecutive days: "2025/01/01..2025/04/10".
bool split_day(const std::string& day, std::string& dir, sys_days& d) {
  if (day.size() < 11 || day.back() != '/') return false;
  const std::string_view ymd(day.data() + day.size() - 11, 11);  // YYYY/MM/DD/
  if (ymd[4] != '/' || ymd[7] != '/' || !all_digits(ymd.substr(0, 4)) || !all_digits(ymd.substr(5, 2)) ||
      !all_digits(ymd.substr(8, 2)))
    return false;
  if (day.size() > 11 && day[day.size() - 12] != '/') return false;
  auto t = civil(to_int(ymd.substr(0, 4)), to_int(ymd.substr(5, 2)), to_int(ymd.substr(8, 2)));
  if (!t) return false;
  dir = day.substr(0, day.size() - 11);
  d = floor<days>(*t);
  return true;
}

std::string ymd_text(sys_days d) {
  const year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d/%02u/%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

std::optional<sys_days> parse_ymd(std::string_view s) {
  if (s.size() != 10 || s[4] != '/' || s[7] != '/' || !all_digits(s.substr(0, 4)) || !all_digits(s.substr(5, 2)) ||
      !all_digits(s.substr(8, 2)))
    return std::nullopt;
  auto t = civil(to_int(s.substr(0, 4)), to_int(s.substr(5, 2)), to_int(s.substr(8, 2)));
  if (!t) return std::nullopt;
  return floor<days>(*t);
}

}  // namespace

std::optional<LogKey> parse_log_key(std::string_view key) {
  // Read from the end: <file>, DD, MM, YYYY, region, kind, account, [o-org], "AWSLogs"; what
  // precedes is the trail's prefix, which may itself hold an "AWSLogs" segment.
  const auto parts = split_slash(key);
  const std::size_t n = parts.size();
  if (n < 8) return std::nullopt;
  LogKey k;
  std::size_t logs_at = 0;  // index of the "AWSLogs" segment
  if (parts[n - 8] == "AWSLogs") {
    logs_at = n - 8;
  } else if (n >= 9 && parts[n - 9] == "AWSLogs" && parts[n - 8].starts_with("o-")) {
    logs_at = n - 9;
    k.org_id = std::string(parts[n - 8]);
  } else {
    return std::nullopt;
  }
  k.prefix = std::string(key.substr(0, static_cast<std::size_t>(parts[logs_at].data() - key.data())));
  const std::size_t i = n - 7;
  // account / kind / region / YYYY / MM / DD / file
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

BackfillState::~BackfillState() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

result<std::unique_ptr<BackfillState>> BackfillState::open(const std::filesystem::path& path, Identity identity,
                                                           Diagnostics& diag, Access access) {
  auto st = std::make_unique<BackfillState>();
  st->path_ = path;
  st->identity_ = identity;
  st->read_only_ = access == Access::read_only;
  if (!st->read_only_) {
    // The state file itself is replaced by rename at each save: the lock lives on a sidecar.
    const std::string lock_path = path.string() + ".lock";
    st->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (st->lock_fd_ < 0)
      return bad(diag, "state file " + path.string() + ": cannot open its lock " + lock_path + ": " + std::strerror(errno));
    if (::flock(st->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      char pid[32] = {};
      const auto n = ::pread(st->lock_fd_, pid, sizeof pid - 1, 0);
      std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : std::string();
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return bad(diag, "state file " + path.string() + " is in use by another backfill" +
                           (holder.empty() ? "" : " (pid " + holder + ")") +
                           (e == EWOULDBLOCK ? "" : std::string(": ") + std::strerror(e)) +
                           "; wait for it to end, or use another --state file");
    }
    const std::string me = std::to_string(::getpid()) + "\n";
    if (::ftruncate(st->lock_fd_, 0) == 0) (void)!::pwrite(st->lock_fd_, me.data(), me.size(), 0);
  }
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
  Identity found{*mode, *bucket, *prefix, *s, *u, str("delivery").value_or("")};
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
  if (auto* complete = o.if_contains("complete")) {
    if (!complete->is_object()) return malformed("\"complete\" is not an object");
    for (const auto& [dir, runs] : complete->as_object()) {
      if (!runs.is_array()) return malformed("complete." + std::string(dir) + " is not an array");
      for (const auto& run : runs.as_array()) {
        const std::string_view rt = run.is_string() ? std::string_view(run.as_string()) : std::string_view();
        const auto dots = rt.find("..");
        auto from = parse_ymd(rt.substr(0, dots));
        auto to = dots == std::string_view::npos ? from : parse_ymd(rt.substr(dots + 2));
        if (!from || !to || *to < *from)
          return malformed("complete." + std::string(dir) + ": expected \"YYYY/MM/DD\" or \"YYYY/MM/DD..YYYY/MM/DD\", got " +
                           json::serialize(run));
        for (auto d = *from; d <= *to; d += std::chrono::days{1}) st->days_[std::string(dir) + ymd_text(d) + "/"].complete = true;
      }
    }
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

void BackfillState::day_listed(const std::string& day_prefix, const std::vector<std::string>& pending, bool settled) {
  Day& d = days_[day_prefix];
  d.listed = true;
  d.keys_only = !settled;
  d.pending.insert(pending.begin(), pending.end());
  advance(d);
  dirty_ = true;
}

bool BackfillState::settled(std::string_view day_prefix, SysTime until, SysTime now) {
  std::string dir;
  sys_days day{};
  if (!split_day(std::string(day_prefix), dir, day)) return true;
  SysTime end = day + std::chrono::days{1};
  // GuardDuty's names carry no time: the whole day is read, whatever `until` says.
  if (dir.find("/GuardDuty/") == std::string::npos) end = std::min(end, until);
  return end + hours{1} <= now;
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
  if (d.keys_only) return;  // may still be written: its done keys are the record
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
  json::object complete;  // dir -> runs of days
  std::string run_dir;
  sys_days run_from{}, run_to{};
  auto end_run = [&] {
    if (run_dir.empty()) return;
    auto& arr = complete[run_dir];
    if (!arr.is_array()) arr = json::array();
    arr.as_array().emplace_back(run_from == run_to ? ymd_text(run_from)
                                                   : ymd_text(run_from) + ".." + ymd_text(run_to));
    run_dir.clear();
  };
  for (const auto& [k, d] : days_) {
    json::object o;
    std::string dir;
    sys_days day{};
    if (d.complete && split_day(k, dir, day)) {
      // Keys sort by directory, then by date: consecutive days of a directory are adjacent.
      if (!run_dir.empty() && dir == run_dir && day == run_to + std::chrono::days{1}) {
        run_to = day;
      } else {
        end_run();
        run_dir = dir;
        run_from = run_to = day;
      }
      continue;
    }
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
  end_run();
  json::object root{{"ctsqs_backfill_state", 1},
                    {"mode", identity_.mode},
                    {"bucket", identity_.bucket},
                    {"prefix", identity_.prefix},
                    {"since", format_backfill_time(identity_.since)},
                    {"until", format_backfill_time(identity_.until)},
                    {"days", std::move(days)},
                    {"complete", std::move(complete)}};
  if (!identity_.delivery.empty()) root.emplace("delivery", identity_.delivery);
  return json::serialize(root) + "\n";
}

std::optional<std::string> BackfillState::snapshot() {
  if (path_.empty() || read_only_ || !dirty_) return std::nullopt;
  dirty_ = false;
  return serialize();
}

result<void> BackfillState::save(Diagnostics& diag) {
  auto text = snapshot();
  if (!text) return {};
  auto r = write_file(path_, *text, diag);
  if (!r) dirty_ = true;
  return r;
}

result<void> BackfillState::write_file(const std::filesystem::path& path_, const std::string& text, Diagnostics& diag) {
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
  return {};
}

}  // namespace ctsqs
