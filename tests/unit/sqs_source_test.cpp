// Unit tests of SqsSource's option validation (the I/O paths run against real peers in
// tests/integration/collector_*_test.cpp).
#include "ctsqs/sqs_source.hpp"

#include "catch.hpp"

using namespace ctsqs;
using namespace std::chrono_literals;

TEST_CASE("sqs source: options are validated naming the field", "[sqs_source]") {
  SqsSourceOptions o;
  Diagnostics d;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("queue_url") != std::string::npos);
  o.queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/q";
  CHECK(validate(o, d));
  o.wait_time = 21s;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("wait_time") != std::string::npos);
  o.wait_time = 0s;
  CHECK(validate(o, d));
  o.max_messages = 11;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("max_messages") != std::string::npos);
  o.max_messages = 1;
  o.visibility_timeout = 43201s;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("visibility_timeout") != std::string::npos);
}
