// Unit tests for the retry policy: decisions, backoff with full jitter, quota, Date parsing.
#include "ctsqs/aws/retry.hpp"

#include "ctsqs/aws/error.hpp"

#include "catch.hpp"
#include "catch_result.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

using namespace ctsqs;
using namespace std::chrono_literals;

TEST_CASE("is_retryable: transient network and AWS errors yes, client errors no", "[retry]") {
  namespace ae = boost::asio::error;
  CHECK(is_retryable(make_error_code(ae::connection_reset)));
  CHECK(is_retryable(make_error_code(ae::connection_refused)));
  CHECK(is_retryable(make_error_code(ae::broken_pipe)));
  CHECK(is_retryable(make_error_code(ae::eof)));
  CHECK(is_retryable(make_error_code(boost::beast::error::timeout)));
  CHECK(is_retryable(make_error_code(boost::beast::http::error::end_of_stream)));
  CHECK(is_retryable(make_error_code(boost::beast::http::error::partial_message)));
  CHECK(is_retryable(make_error_code(boost::asio::ssl::error::stream_truncated)));
  CHECK(is_retryable(client_errc::timeout));
  CHECK(is_retryable(aws_errc::throttling));
  CHECK(is_retryable(aws_errc::service_unavailable));
  CHECK(is_retryable(aws_errc::internal_error));
  CHECK(is_retryable(aws_errc::request_timeout));
  CHECK(is_retryable(aws_errc::clock_skew));
  CHECK(is_retryable(aws_errc::expired_token));

  CHECK_FALSE(is_retryable(error_code{}));
  CHECK_FALSE(is_retryable(aws_errc::access_denied));
  CHECK_FALSE(is_retryable(aws_errc::signature_mismatch));
  CHECK_FALSE(is_retryable(aws_errc::invalid_credentials));
  CHECK_FALSE(is_retryable(aws_errc::no_such_key));
  CHECK_FALSE(is_retryable(aws_errc::invalid_request));
  CHECK_FALSE(is_retryable(aws_errc::unknown));
  CHECK_FALSE(is_retryable(client_errc::invalid_argument));
  CHECK_FALSE(is_retryable(client_errc::limit_exceeded));
  CHECK_FALSE(is_retryable(client_errc::cancelled));
  CHECK_FALSE(is_retryable(make_error_code(boost::beast::http::error::body_limit)));
  CHECK_FALSE(is_retryable(make_error_code(ae::operation_aborted)));
}

TEST_CASE("backoff: full jitter over an exponential ceiling capped at max_backoff", "[retry]") {
  RetryPolicy p;  // 100 ms base, 1 s throttling base, 20 s cap
  const error_code transient = aws_errc::service_unavailable;
  const error_code throttled = aws_errc::throttling;
  CHECK(backoff_delay(p, 1, transient, 0.0) == 0ms);
  CHECK(backoff_delay(p, 1, transient, 0.5) == 50ms);
  CHECK(backoff_delay(p, 2, transient, 0.5) == 100ms);
  CHECK(backoff_delay(p, 3, transient, 0.999) == 399ms);
  CHECK(backoff_delay(p, 1, throttled, 0.5) == 500ms);
  CHECK(backoff_delay(p, 3, throttled, 0.5) == 2000ms);
  CHECK(backoff_delay(p, 10, throttled, 0.5) == 10000ms);   // capped at 20 s, half of it
  CHECK(backoff_delay(p, 60, transient, 1.0) == 20000ms);   // huge attempt numbers stay capped
  CHECK(backoff_delay(p, 2, transient, 7.0) == 200ms);      // jitter clamped to [0,1]
}

TEST_CASE("default jitter stays between 0 inclusive and 1 exclusive and varies", "[retry]") {
  auto j = default_jitter();
  double lo = 1, hi = 0;
  for (int i = 0; i < 1000; ++i) {
    double v = j();
    REQUIRE(v >= 0.0);
    REQUIRE(v < 1.0);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(hi - lo > 0.5);
}

TEST_CASE("retry quota: 5 per retry, 10 after a timeout, refilled by successes", "[retry]") {
  RetryPolicy p;
  p.quota_capacity = 22;
  RetryQuota q(p);
  CHECK(q.try_acquire(aws_errc::service_unavailable));   // 17
  CHECK(q.try_acquire(client_errc::timeout));             // 7
  CHECK(q.try_acquire(aws_errc::throttling));             // 2
  CHECK(q.available() == 2);
  CHECK_FALSE(q.try_acquire(aws_errc::throttling));
  CHECK(q.available() == 2);
  q.release(5);
  CHECK(q.available() == 7);
  q.release(0);  // a success without retries gives back 1
  CHECK(q.available() == 8);
  for (int i = 0; i < 100; ++i) q.release(10);
  CHECK(q.available() == 22);  // never above capacity
}

TEST_CASE("HTTP dates in the three RFC 9110 forms", "[retry]") {
  using namespace std::chrono;
  const auto expected = sys_days(year{1994} / November / 6) + 8h + 49min + 37s;
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == expected);
  CHECK_FALSE(parse_http_date(""));
  CHECK_FALSE(parse_http_date("Sun, 31 Feb 2026 08:49:37 GMT"));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
  CHECK_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  CHECK_FALSE(parse_http_date("yesterday"));
}

TEST_CASE("clock skew offset is server Date minus local time", "[retry]") {
  using namespace std::chrono;
  const auto local = sys_days(year{2026} / November / 28) + 20h;
  auto off = clock_skew_offset("Sat, 28 Nov 2026 20:17:30 GMT", local);
  REQUIRE(off);
  CHECK(*off == 1050s);
  auto behind = clock_skew_offset("Sat, 28 Nov 2026 19:00:00 GMT", local);
  REQUIRE(behind);
  CHECK(*behind == -3600s);
  CHECK_FALSE(clock_skew_offset("", local));
}
