// Retry decisions, backoff with full jitter, the retry quota and HTTP Date parsing.
#include "ctsqs/aws/retry.hpp"

#include "ctsqs/aws/error_response.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>

namespace ctsqs {

bool is_throttling(const error_code& ec) noexcept { return ec == aws_errc::throttling; }

bool is_timeout(const error_code& ec) noexcept {
  return ec == boost::beast::error::timeout || ec == client_errc::timeout ||
         ec == boost::asio::error::timed_out;
}

bool is_retryable(const error_code& ec) noexcept {
  namespace ae = boost::asio::error;
  namespace http = boost::beast::http;
  if (!ec) return false;
  if (ec.category() == aws_category()) return is_retryable_aws_error(ec);
  if (is_timeout(ec)) return true;
  if (ec == ae::connection_reset || ec == ae::connection_aborted || ec == ae::connection_refused ||
      ec == ae::broken_pipe || ec == ae::eof || ec == ae::network_unreachable ||
      ec == ae::network_down || ec == ae::network_reset || ec == ae::host_unreachable ||
      ec == ae::host_not_found_try_again || ec == ae::try_again || ec == ae::shut_down)
    return true;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == http::error::short_read)
    return true;
  if (ec == boost::asio::ssl::error::stream_truncated) return true;
  return false;
}

JitterSource default_jitter() {
  auto state = std::make_shared<std::pair<std::mutex, std::mt19937_64>>();
  state->second.seed(std::random_device{}());
  return [state]() {
    std::lock_guard lock(state->first);
    return std::uniform_real_distribution<double>(0.0, 1.0)(state->second);
  };
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, const error_code& ec,
                                        double jitter) noexcept {
  const auto base = is_throttling(ec) ? policy.throttling_base_delay : policy.base_delay;
  const int exp = std::clamp(attempt - 1, 0, 30);
  const double ceiling = std::min(static_cast<double>(policy.max_backoff.count()),
                                  static_cast<double>(base.count()) * std::ldexp(1.0, exp));
  jitter = std::clamp(jitter, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(jitter * ceiling));
}

struct RetryQuota::State {
  std::mutex mu;
  int tokens = 0;
};

RetryQuota::RetryQuota(const RetryPolicy& policy) : policy_(policy), state_(std::make_shared<State>()) {
  state_->tokens = policy.quota_capacity;
}

int RetryQuota::cost(const error_code& ec) const noexcept {
  return is_timeout(ec) ? policy_.timeout_retry_cost : policy_.retry_cost;
}

bool RetryQuota::try_acquire(const error_code& ec) noexcept {
  if (policy_.quota_capacity <= 0) return true;
  std::lock_guard lock(state_->mu);
  const int c = cost(ec);
  if (state_->tokens < c) return false;
  state_->tokens -= c;
  return true;
}

void RetryQuota::release(int acquired) noexcept {
  if (policy_.quota_capacity <= 0) return;
  std::lock_guard lock(state_->mu);
  state_->tokens = std::min(policy_.quota_capacity,
                            state_->tokens + (acquired > 0 ? acquired : policy_.success_refund));
}

int RetryQuota::available() const noexcept {
  std::lock_guard lock(state_->mu);
  return state_->tokens;
}

namespace {

int month_index(std::string_view m) {
  static constexpr const char* names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i)
    if (m == names[i]) return i + 1;
  return 0;
}

bool parse_int(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool parse_hms(std::string_view s, int& h, int& m, int& sec) {
  return s.size() == 8 && s[2] == ':' && s[5] == ':' && parse_int(s.substr(0, 2), h) &&
         parse_int(s.substr(3, 2), m) && parse_int(s.substr(6, 2), sec) && h < 24 && m < 60 && sec < 61;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view t) noexcept {
  // Split on spaces (and the dashes of RFC 850's date).
  std::string_view parts[8];
  int n = 0;
  std::size_t i = 0;
  while (i < t.size() && n < 8) {
    while (i < t.size() && t[i] == ' ') ++i;
    std::size_t j = i;
    while (j < t.size() && t[j] != ' ') ++j;
    if (j > i) parts[n++] = t.substr(i, j - i);
    i = j;
  }
  int day = 0, month = 0, year = 0, h = 0, m = 0, s = 0;
  if (n == 6 && parts[0].ends_with(",") && parts[5] == "GMT") {  // IMF-fixdate
    if (!parse_int(parts[1], day) || !(month = month_index(parts[2])) || !parse_int(parts[3], year) ||
        !parse_hms(parts[4], h, m, s))
      return std::nullopt;
  } else if (n == 4 && parts[0].ends_with(",") && parts[3] == "GMT") {  // RFC 850: 06-Nov-94
    auto d = parts[1];
    if (d.size() != 9 || d[2] != '-' || d[6] != '-' || !parse_int(d.substr(0, 2), day) ||
        !(month = month_index(d.substr(3, 3))) || !parse_int(d.substr(7, 2), year) ||
        !parse_hms(parts[2], h, m, s))
      return std::nullopt;
    year += year < 70 ? 2000 : 1900;
  } else if (n == 5) {  // asctime: Sun Nov  6 08:49:37 1994
    if (!(month = month_index(parts[1])) || !parse_int(parts[2], day) || !parse_hms(parts[3], h, m, s) ||
        !parse_int(parts[4], year))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                     std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days(ymd) + hours(h) + minutes(m) + seconds(s);
}

std::optional<std::chrono::seconds> clock_skew_offset(std::string_view date_header,
                                                      std::chrono::system_clock::time_point local_now) noexcept {
  auto server = parse_http_date(date_header);
  if (!server) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(*server - local_now);
}

}  // namespace ctsqs
