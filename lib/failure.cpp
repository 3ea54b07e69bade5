// Failure classification (failure.hpp), and the collector's two predicates built on it.
#include "ctsqs/failure.hpp"

#include "ctsqs/aws/error.hpp"
#include "ctsqs/decode/cloudtrail_decoder.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/aws/retry.hpp"

namespace ctsqs {

FailureKind classify_failure(const error_code& ec) noexcept {
  if (!ec) return FailureKind::none;
  // The bytes will not change: undecodable content is the message's, whatever else holds.
  if (ec.category() == decode_category()) return FailureKind::message;
  if (ec.category() == client_category()) {
    switch (static_cast<client_errc>(ec.value())) {
      case client_errc::limit_exceeded:  // over the caps
        return FailureKind::message;
      case client_errc::sink_failed:
      case client_errc::sink_closed:
      case client_errc::timeout:
      case client_errc::io_error:
      case client_errc::cancelled:
        return FailureKind::transient;
      case client_errc::invalid_argument:
        return FailureKind::environment;
    }
    return FailureKind::environment;
  }
  if (ec.category() == aws_category()) {
    switch (static_cast<aws_errc>(ec.value())) {
      case aws_errc::no_such_key:
      case aws_errc::no_such_bucket:
      case aws_errc::invalid_object_state:
        return FailureKind::message;
      default:
        break;
    }
  }
  // Network, TLS, timeouts, throttling and 5xx that outlived the client's own retries may well
  // pass later; AWS client errors (4xx) will not.
  return is_retryable(ec) ? FailureKind::transient : FailureKind::environment;
}

std::string_view to_string(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::none: return "none";
    case FailureKind::transient: return "transient";
    case FailureKind::message: return "message";
    case FailureKind::environment: return "environment";
  }
  return "environment";
}

bool is_retryable_failure(const error_code& ec) { return classify_failure(ec) == FailureKind::transient; }

bool is_message_failure(const error_code& ec) { return classify_failure(ec) == FailureKind::message; }

}  // namespace ctsqs
