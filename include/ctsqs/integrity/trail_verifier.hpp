// TrailVerifier: proves a trail's log files are all there and untouched over a time range, from
// CloudTrail's signed digest files (what `ctsqs verify` runs; an embedder can run it too).
#pragma once

#include "ctsqs/collector/config.hpp"
#include "ctsqs/detail/completion.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/integrity/chain_walk.hpp"
#include "ctsqs/integrity/report.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {
class AwsClient;
}

namespace ctsqs::integrity {

/// What to verify.
struct VerifyOptions {
  std::string bucket;
  std::string prefix;                 ///< the trail's key prefix ("" or "logs/"; '/' is added)
  std::vector<std::string> accounts;  ///< empty: every account found
  std::vector<std::string> regions;   ///< empty: every region found
  std::chrono::system_clock::time_point since{};  ///< digests ending at or after since...
  /// ...and up to an hour after until (as validate-logs: the digest of the hour after lists the
  /// files delivered at the end of the range); unlisted files are sought in [since, until).
  /// Unset (the epoch): now.
  std::chrono::system_clock::time_point until{};
  /// Objects fetched at once: 0 follows the collector file (`objects_in_flight`, adaptive by default).
  std::size_t objects_in_flight = 0;
  std::size_t list_concurrency = 8;          ///< day prefixes listed at once
  std::chrono::minutes unlisted_margin{5};   ///< see WalkInput::unlisted_margin
  std::size_t max_digest_bytes = 64u << 20;  ///< an uncompressed digest larger than this is invalid
  /// Digests only (`ctsqs audit`): the digests are listed, fetched, checked and walked, but no
  /// log file is listed or fetched; what the valid digests list is handed back in
  /// VerifyResult::listed instead (no unlisted files are sought, logs_uncovered stays 0).
  bool digests_only = false;
  /// Every record as it is decided (from the I/O thread).
  std::function<void(const ReportRecord&)> on_record;
  /// Warnings and failures as they happen (default: stderr).
  std::function<void(std::string_view line)> log;
};

/// How a verification ended.
struct VerifyResult {
  ReportCounts counts;
  /// Listings, key lookups or fetches that failed for good (after retries), named: the result
  /// then proves nothing about what they concern.
  std::vector<std::string> errors;
  std::uint64_t digests_listed = 0, logs_listed = 0;
  /// Log files in the range that no digest lists and no valid digest's time covers (validation
  /// or logging off, or their digest invalid or missing): not proven, not failures by themselves.
  std::uint64_t logs_uncovered = 0;
  std::uint64_t bytes_read = 0;  ///< compressed bytes fetched
  bool interrupted = false;
  /// digests_only: every log file a valid digest lists (bucket, key, SHA-256, the digest).
  std::vector<LogExpectation> listed;
  /// The bucket's region, as its listing found it ("" when nothing was listed).
  std::string bucket_region;
  /// Every digest and log file in the range valid, nothing unlisted, nothing failed.
  bool clean() const noexcept { return counts.clean() && errors.empty() && !interrupted; }
};

/// Verifies the digest chains of a bucket: ListPublicKeys (each digest's home region), the
/// digests and log files listed with the backfill's bucket scanner, every digest fetched with
/// its metadata and checked, the chains walked, every listed log file fetched, gunzipped and
/// hashed as a stream — many objects at once (the drain's adaptive objects in flight).
/// Runs on the executor it was built with (a single-threaded io_context).
class TrailVerifier {
 public:
  ~TrailVerifier();
  TrailVerifier(const TrailVerifier&) = delete;
  TrailVerifier& operator=(const TrailVerifier&) = delete;

  /// Builds from a collector file (credentials, role with external id, endpoints, proxies; its
  /// queue is not needed). Errors (client_errc::invalid_argument) name the setting or flag.
  static result<std::unique_ptr<TrailVerifier>> create(CollectorConfig config, boost::asio::any_io_executor executor,
                                                       VerifyOptions options, Diagnostics& diag);

  /// Verifies; completes with `void(error_code, VerifyResult)` through any completion token.
  /// The error code is `asio::error::operation_aborted` when the run was stopped through the
  /// token's cancellation slot, else success: what the verification found (invalid digests,
  /// gaps, failed fetches) is the result (`VerifyResult::clean()`), not an error of the run.
  /// Cancellation: terminal or partial is request_stop() (the result is `interrupted`); total
  /// alone is ignored. The TrailVerifier must outlive the operation.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(error_code, VerifyResult)) CompletionToken>
  auto async_run(CompletionToken&& token) {
    return ctsqs::detail::initiate_erased<VerifyResult>(
        std::forward<CompletionToken>(token),
        [this](completion_handler<VerifyResult> handler) { launch_run(std::move(handler)); });
  }
  /// The coroutine form (the result alone, stopped by request_stop() only).
  boost::asio::awaitable<VerifyResult> async_run();
  /// The executor the operation runs on (the one it was built with).
  boost::asio::any_io_executor get_executor() const;
  /// Stops after what is in flight; the result is then `interrupted`.
  void request_stop();

  /// Progress: digests and log files done / known so far.
  struct Progress {
    std::uint64_t digests_done = 0, digests_total = 0, logs_done = 0, logs_total = 0, bytes = 0;
    std::string phase;  ///< "keys", "listing", "digests", "logs", "done"
  };
  Progress progress() const;
  const VerifyOptions& options() const noexcept;

  struct Impl;
  explicit TrailVerifier(std::shared_ptr<Impl> impl);

 private:
  void launch_run(completion_handler<VerifyResult> handler);

  std::shared_ptr<Impl> impl_;
};

/// One progress line: "verify: digests 24/24, log files 310/480, 12.3MB".
std::string format_progress(const TrailVerifier::Progress& p);

}  // namespace ctsqs::integrity
