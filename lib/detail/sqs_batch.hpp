// Batch classification of SqsSource's DeleteMessageBatch / ChangeMessageVisibilityBatch rounds
// (internal; defined in lib/sqs_source.cpp, tested in tests/unit/sqs_source_test.cpp).
#pragma once

#include "ctsqs/aws/sqs/protocol.hpp"
#include "ctsqs/collector/sqs_source.hpp"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace ctsqs {

/// What one round of a batch call (entries sent with ids "m0", "m1", ...) did to each entry.
struct BatchRoundOutcome {
  std::vector<std::size_t> retry;  ///< indexes to send again (retryable failure, or not in the answer)
  /// Indexes that failed for good, with the failure (also: retries exhausted).
  std::vector<std::pair<std::size_t, BatchEntryFailure>> failed;
  /// Ids in the answer that name no entry sent ("m7" of 3 entries, "x", "m1x", ...): ignored.
  std::vector<std::string> unknown_ids;
};

/// Matches a batch answer to the `entry_count` entries sent (ids "m<index>"); pure, never throws.
/// An entry is done only when it is listed in `Successful` and not in `Failed`. An entry the
/// answer does not mention (or whose only mention is malformed) was neither deleted nor changed:
/// it is retried as a retryable failure "MissingFromResponse". Retryable failures are retried
/// while `may_retry`; otherwise they (and missing entries) are final failures.
/// Handles are left empty in `failed`; the caller fills them from its entries.
BatchRoundOutcome classify_batch_round(std::size_t entry_count, const sqs::BatchResult& answer, bool may_retry);

}  // namespace ctsqs
