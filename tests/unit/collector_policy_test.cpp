// Unit tests of the collector's pure decisions: dispositions, backoff, validation, retryability.
#include "ctsqs/collector/collector.hpp"

#include "catch.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/decode/cloudtrail_decoder.hpp"

#include <boost/asio/error.hpp>

using namespace ctsqs;
using namespace std::chrono_literals;
using A = MessageDisposition::Action;

TEST_CASE("collector policy: retry backoff doubles per receive and is capped", "[collector]") {
  CHECK(retry_backoff(1, 5s, 300s) == 5s);
  CHECK(retry_backoff(2, 5s, 300s) == 10s);
  CHECK(retry_backoff(3, 5s, 300s) == 20s);
  CHECK(retry_backoff(7, 5s, 300s) == 300s);
  CHECK(retry_backoff(1000, 5s, 300s) == 300s);
  CHECK(retry_backoff(0, 5s, 300s) == 5s);
  CHECK(retry_backoff(3, 0s, 300s) == 0s);
}

TEST_CASE("collector policy: delivered and ignored messages are deleted", "[collector]") {
  CollectorOptions o;
  CHECK(decide_disposition(MessageOutcome::delivered, 1, o).action == A::delete_message);
  CHECK(decide_disposition(MessageOutcome::ignored, 4, o).action == A::delete_message);
  o.ack_messages = false;
  auto d = decide_disposition(MessageOutcome::delivered, 1, o);
  CHECK(d.action == A::change_visibility);
  CHECK(d.visibility == o.retry_backoff_min);
}

TEST_CASE("collector policy: retryable failures come back after the backoff", "[collector]") {
  CollectorOptions o;
  o.retry_backoff_min = 2s;
  o.retry_backoff_max = 60s;
  auto d = decide_disposition(MessageOutcome::retryable_failure, 3, o);
  CHECK(d.action == A::change_visibility);
  CHECK(d.visibility == 8s);
}

TEST_CASE("collector policy: permanent failures stay for the DLQ by default", "[collector]") {
  CollectorOptions o;
  for (int rc : {1, 5, 100}) {
    auto d = decide_disposition(MessageOutcome::permanent_failure, rc, o);
    CHECK(d.action == A::change_visibility);
  }
  o.on_permanent_failure.delete_after_receives = 3;
  CHECK(decide_disposition(MessageOutcome::permanent_failure, 2, o).action == A::change_visibility);
  CHECK(decide_disposition(MessageOutcome::permanent_failure, 3, o).action == A::delete_message);
  CHECK(decide_disposition(MessageOutcome::permanent_failure, 9, o).action == A::delete_message);
  o.ack_messages = false;
  CHECK(decide_disposition(MessageOutcome::permanent_failure, 9, o).action == A::change_visibility);
}

TEST_CASE("collector policy: validate names the field", "[collector]") {
  CollectorOptions o;
  Diagnostics d;
  CHECK(validate(o, d));
  o.receive = SqsReceiveOptions{};
  o.receive->visibility_extension_interval = o.receive->visibility_timeout;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("visibility_extension_interval") != std::string::npos);
  o = {};
  o.concurrency.messages_in_flight = 0;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("messages_in_flight") != std::string::npos);
  o.concurrency.messages_in_flight = 1;  // fewer than a batch is fine: receives ask for what fits
  CHECK(validate(o, d));
  o.receive = SqsReceiveOptions{};
  o.receive->max_messages = 11;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("max_messages") != std::string::npos);
  o.receive->max_messages = 10;
  o.on_permanent_failure.delete_after_receives = -1;
  CHECK_FALSE(validate(o, d));
  CHECK(d.message.find("delete_after_receives") != std::string::npos);
}

TEST_CASE("collector settings: one set of defaults for the file and the runtime", "[collector]") {
  // The collector file documents these defaults (docs/configuration): the runtime's structs are
  // the file's, so an embedder who builds CollectorOptions by hand gets the same numbers.
  CollectorOptions o;
  CHECK(o.concurrency.messages_in_flight == 128);
  CHECK(o.concurrency.objects_in_flight == 8);
  CHECK(o.concurrency.adaptive_objects_in_flight);
  CHECK(o.concurrency.max_objects_in_flight == 64);
  CHECK(o.concurrency.receives_in_flight == 4);
  CHECK(o.on_sink_failure.give_up_after_flushes == 5);
  CHECK(o.on_sink_failure.give_up_after == std::chrono::seconds(60));
  CHECK(o.on_permanent_failure.delete_after_receives == 0);
  CHECK(o.heartbeat.interval == std::chrono::seconds(60));
  SqsReceiveOptions r;
  CHECK(r.wait_time == std::chrono::seconds(20));
  CHECK(r.max_messages == 10);
  CHECK(r.visibility_timeout == std::chrono::seconds(120));
  // The extension interval follows the timeout unless set: a third, at least 1 s.
  CHECK(r.extension_interval() == std::chrono::seconds(40));
  r.visibility_timeout = std::chrono::seconds(2);
  CHECK(r.extension_interval() == std::chrono::seconds(1));
  r.visibility_extension_interval = std::chrono::seconds(30);
  CHECK(r.extension_interval() == std::chrono::seconds(30));
  Diagnostics d;
  CHECK_FALSE(validate(r, d));  // 30 s is not shorter than 2 s
  CHECK(d.message.find("visibility_extension_interval") != std::string::npos);
}

TEST_CASE("collector policy: which failures are retryable", "[collector]") {
  CHECK(is_retryable_failure(make_error_code(client_errc::sink_failed)));
  CHECK(is_retryable_failure(make_error_code(client_errc::timeout)));
  CHECK_FALSE(is_retryable_failure(make_error_code(client_errc::invalid_argument)));
  CHECK_FALSE(is_retryable_failure(make_error_code(decode_errc::corrupt_gzip)));
  CHECK_FALSE(is_retryable_failure(make_error_code(decode_errc::records_missing)));
  CHECK(is_retryable_failure(boost::asio::error::connection_reset));
  CHECK_FALSE(is_retryable_failure(error_code{}));
}

TEST_CASE("collector policy: only failures of the message or its object may count as its permanent failure",
          "[collector]") {
  // The message's own: the object's bytes, the object gone, over the caps.
  CHECK(is_message_failure(make_error_code(decode_errc::corrupt_gzip)));
  CHECK(is_message_failure(make_error_code(decode_errc::object_too_large)));
  CHECK(is_message_failure(make_error_code(client_errc::limit_exceeded)));
  CHECK(is_message_failure(make_error_code(aws_errc::no_such_key)));
  CHECK(is_message_failure(make_error_code(aws_errc::no_such_bucket)));
  CHECK(is_message_failure(make_error_code(aws_errc::invalid_object_state)));
  // The environment: credentials, signatures, access, KMS, network, TLS, 5xx, a proxy's refusal
  // (an unknown 4xx), local configuration.
  for (auto e : {aws_errc::access_denied, aws_errc::invalid_credentials, aws_errc::expired_token,
                 aws_errc::signature_mismatch, aws_errc::clock_skew, aws_errc::kms_error, aws_errc::internal_error,
                 aws_errc::service_unavailable, aws_errc::throttling, aws_errc::unknown, aws_errc::wrong_region,
                 aws_errc::permanent_redirect}) {
    INFO(make_error_code(e).message());
    CHECK_FALSE(is_message_failure(make_error_code(e)));
  }
  CHECK_FALSE(is_message_failure(boost::asio::error::connection_refused));
  CHECK_FALSE(is_message_failure(boost::asio::error::host_not_found));
  CHECK_FALSE(is_message_failure(make_error_code(client_errc::invalid_argument)));
  CHECK_FALSE(is_message_failure(make_error_code(client_errc::io_error)));
  CHECK_FALSE(is_message_failure(make_error_code(client_errc::sink_failed)));
  CHECK_FALSE(is_message_failure(error_code{}));
}

TEST_CASE("collector plan: the notification's ETag and versionId pin the object to fetch", "[collector]") {
  SqsMessage m;
  m.message_id = "m-1";
  m.body = R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1",)"
           R"("eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"AWSLogs/a.json.gz",)"
           R"("size":10,"eTag":"0123abcd","versionId":"v-7"}}}]})";
  Diagnostics diag;
  auto plan = plan_notification(m, diag);
  REQUIRE(plan.has_value());
  REQUIRE(plan->objects.size() == 1);
  CHECK(plan->objects[0].etag == "0123abcd");
  CHECK(plan->objects[0].version_id == "v-7");
}
