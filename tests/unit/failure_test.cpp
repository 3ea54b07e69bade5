// Unit tests of classify_failure: every failure is transient, the message's or the environment's.
#include "ctsqs/failure.hpp"

#include "catch.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/collector/collector.hpp"

#include <boost/asio/error.hpp>

using namespace ctsqs;

TEST_CASE("classify_failure: one class per error, the collector's predicates agree with it", "[failure]") {
  CHECK(classify_failure(error_code{}) == FailureKind::none);
  // Transient: may pass by itself.
  for (error_code ec : {make_error_code(client_errc::sink_failed), make_error_code(client_errc::sink_closed),
                        make_error_code(client_errc::timeout), make_error_code(client_errc::io_error),
                        make_error_code(client_errc::cancelled), make_error_code(aws_errc::throttling),
                        make_error_code(aws_errc::service_unavailable), make_error_code(aws_errc::internal_error),
                        error_code(boost::asio::error::connection_reset)}) {
    INFO(ec.message());
    CHECK(classify_failure(ec) == FailureKind::transient);
  }
  // The message's own: the same every time.
  for (error_code ec : {make_error_code(decode_errc::corrupt_gzip), make_error_code(decode_errc::object_too_large),
                        make_error_code(client_errc::limit_exceeded), make_error_code(aws_errc::no_such_key),
                        make_error_code(aws_errc::no_such_bucket), make_error_code(aws_errc::invalid_object_state)}) {
    INFO(ec.message());
    CHECK(classify_failure(ec) == FailureKind::message);
  }
  // The environment's: stays broken until the setup is fixed.
  for (error_code ec : {make_error_code(client_errc::invalid_argument), make_error_code(aws_errc::access_denied),
                        make_error_code(aws_errc::invalid_credentials), make_error_code(aws_errc::signature_mismatch),
                        make_error_code(aws_errc::kms_error), make_error_code(aws_errc::unknown)}) {
    INFO(ec.message());
    CHECK(classify_failure(ec) == FailureKind::environment);
  }
  // The two predicates of the collector are views of the one classification.
  for (error_code ec : {error_code{}, make_error_code(client_errc::sink_failed), make_error_code(decode_errc::corrupt_gzip),
                        make_error_code(aws_errc::access_denied), make_error_code(aws_errc::no_such_key),
                        error_code(boost::asio::error::host_not_found)}) {
    INFO(ec.message());
    CHECK(is_retryable_failure(ec) == (classify_failure(ec) == FailureKind::transient));
    CHECK(is_message_failure(ec) == (classify_failure(ec) == FailureKind::message));
  }
  CHECK(to_string(FailureKind::environment) == "environment");
}
