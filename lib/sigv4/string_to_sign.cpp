// SigV4 string to sign and the date formats it uses (time is always an argument).
#include "ctsqs/aws/sigv4/string_to_sign.hpp"

#include "ctsqs/aws/sigv4/hash.hpp"

#include <cstdio>

namespace ctsqs::sigv4 {
namespace {

struct Civil {
  int year;
  unsigned month, day;
  long hour, minute, second;
};

Civil to_civil(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto secs = floor<seconds>(t);
  auto days_ = floor<days>(secs);
  year_month_day ymd{days_};
  hh_mm_ss hms{secs - days_};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()), static_cast<long>(hms.hours().count()),
          static_cast<long>(hms.minutes().count()), static_cast<long>(hms.seconds().count())};
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::string format_amz_date(std::chrono::system_clock::time_point t) {
  Civil c = to_civil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02ld%02ld%02ldZ", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return buf;
}

std::string format_date_stamp(std::chrono::system_clock::time_point t) {
  return format_amz_date(t).substr(0, 8);
}

bool parse_amz_date(std::string_view s, std::chrono::system_clock::time_point& out) {
  int y, mo, d, h, mi, se;
  bool ok;
  if (s.size() == 16) {
    ok = digits(s, 0, 4, y) && digits(s, 4, 2, mo) && digits(s, 6, 2, d) && s[8] == 'T' &&
         digits(s, 9, 2, h) && digits(s, 11, 2, mi) && digits(s, 13, 2, se) && s[15] == 'Z';
  } else if (s.size() == 20) {
    ok = digits(s, 0, 4, y) && s[4] == '-' && digits(s, 5, 2, mo) && s[7] == '-' &&
         digits(s, 8, 2, d) && s[10] == 'T' && digits(s, 11, 2, h) && s[13] == ':' &&
         digits(s, 14, 2, mi) && s[16] == ':' && digits(s, 17, 2, se) && s[19] == 'Z';
  } else {
    return false;
  }
  if (!ok || h > 23 || mi > 59 || se > 60) return false;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return false;
  out = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se};
  return true;
}

std::string credential_scope(std::string_view date_stamp, std::string_view region,
                             std::string_view service) {
  std::string out;
  out.append(date_stamp).append("/").append(region).append("/").append(service).append("/aws4_request");
  return out;
}

std::string make_string_to_sign(std::string_view amz_date, std::string_view scope,
                                std::string_view canonical_request) {
  std::string out;
  out.append(algorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out += sha256_hex(canonical_request);
  return out;
}

}  // namespace ctsqs::sigv4
