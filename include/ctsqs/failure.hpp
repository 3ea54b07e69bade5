// Failure classification: the one answer to "whose failure is this, and will trying again help?"
#pragma once

#include "ctsqs/error.hpp"

#include <string_view>

namespace ctsqs {

/// What a failed operation's error_code means for the work it was doing. Every component that
/// decides what to do with a failure (the collector's receive loop and message disposition,
/// the adaptive concurrency limit, backfill, the CLI's exit codes) asks classify_failure().
///
/// Not to be confused with is_retryable() (retry.hpp), the narrower per-request decision of the
/// AWS client: whether to send the same HTTP request again at once, within `max_attempts`. An
/// error that outlived those retries is then classified here.
enum class FailureKind {
  none,         ///< no error
  /// May pass by itself: connection resets, TLS truncation, timeouts, throttling and 5xx that
  /// outlived the client's retries, a sink that failed or closed, a local I/O error,
  /// cancellation (shutdown). The work is redone later.
  transient,
  /// The message's (or its object's) own: undecodable content, the object or bucket gone
  /// (NoSuchKey, NoSuchBucket), an archived object (InvalidObjectState), an object over the
  /// caps. Trying again fails the same way; such failures may count towards
  /// `PermanentFailurePolicy::delete_after_receives`.
  message,
  /// The environment's: what stays broken until someone fixes the setup — credentials that
  /// cannot be obtained, a refused signature, access denied, an invalid configuration, a local
  /// file that cannot be created. Never the message's fault: it never counts towards deletion.
  environment,
};

/// The class of `ec` (see FailureKind). An allow-list: an error not known to be transient or
/// the message's is the environment's, so an outage never gets a message deleted.
FailureKind classify_failure(const error_code& ec) noexcept;

/// "transient", "message", "environment" ("none" for none).
std::string_view to_string(FailureKind kind) noexcept;

}  // namespace ctsqs
