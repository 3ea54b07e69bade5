// DrainIntegrity: the drain's digest checks in passing. Digest files that arrive on the queue are
// verified (signature, chain link to the previous digest when this process saw it), and the log
// files they list are compared with the SHA-256 the collector computed while reading them.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/event.hpp"
#include "ctsqs/integrity/chain_walk.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs {
class AwsClient;
}

namespace ctsqs::integrity {

/// One thing the drain found wrong.
struct IntegrityFinding {
  /// "invalid_digest" (signature, place, format, or a chain link that does not match),
  /// "mismatch" (a log file this process read differs from what its digest says),
  /// "unlisted" (a log file this process delivered that the digest of its time does not list).
  std::string kind;
  std::string file;    ///< s3://bucket/key of the file concerned
  std::string digest;  ///< s3://bucket/key of the digest
  std::string reason;
};

/// The finding as an event tagged `cloud.aws.cloudtrail.integrity` (record and columns hold
/// kind, file, digest, reason and the collector id), for the SIEM to alert on.
Event make_integrity_event(const IntegrityFinding& finding, std::string_view collector_id);

/// Counters (also exported as metrics).
struct IntegrityCounters {
  std::atomic<std::uint64_t> digests_valid{0}, digests_invalid{0};
  std::atomic<std::uint64_t> logs_matched{0}, logs_mismatched{0}, logs_unlisted{0};
};

/// Whether `key` is a digest (CloudTrail-Digest / CloudTrail-Insight-Digest) or a log file
/// (CloudTrail / CloudTrail-Insight) of CloudTrail's layout.
bool is_digest_key(std::string_view key);
bool is_log_key(std::string_view key);

/// A digest that verified, with the log files it lists (what healing, drain_heal.hpp, compares
/// with the delivery ledger).
struct VerifiedDigest {
  std::string uri;  ///< s3://bucket/key of the digest
  struct File {
    std::string bucket, key;
    std::string sha256;  ///< the digest's hashValue (hex SHA-256 of the uncompressed content)
  };
  std::vector<File> files;
};

/// Settings of DrainIntegrity.
struct DrainIntegrityOptions {
  /// Log files remembered (key and SHA-256) until a digest lists them; the oldest are forgotten
  /// beyond this (about 100 bytes each).
  std::size_t max_remembered_logs = 200000;
  std::chrono::minutes unlisted_margin{5};  ///< as WalkInput::unlisted_margin
  /// An unknown key fingerprint reloads the region's keys at most this often.
  std::chrono::seconds key_reload_interval{300};
  /// Called (on the caller's executor, inside async_digest) with each digest that verified.
  std::function<void(VerifiedDigest)> on_valid_digest;
};

/// Not thread-safe: call from the collector's executor. The AwsClient must outlive it.
class DrainIntegrity {
 public:
  DrainIntegrity(AwsClient& client, DrainIntegrityOptions options = {});

  /// A log file this process read (and delivered) and the SHA-256 of its uncompressed bytes.
  /// Its digest usually arrives within the hour after.
  void log_read(std::string bucket, std::string key, std::string sha256);

  /// A file that will be read after its digest was verified (a hole being healed): log_read()
  /// does not remember it (a later digest must not take it for unlisted) until forget_read().
  void expect_late_read(std::string_view bucket, std::string_view key);
  /// Forgets a file log_read() remembered, and ends expect_late_read() for it.
  void forget_read(std::string_view bucket, std::string_view key);

  /// A digest file that arrived: its uncompressed bytes and user metadata. Verifies it (keys
  /// from ListPublicKeys of its home region, cached), links it to the previous digest of its
  /// chain when that was seen, compares each listed log file this process read, and finds the
  /// files this process read in its time that it does not list. Fails (retryable, diag says
  /// why) only when the keys cannot be loaded: the digest's message is then tried again.
  boost::asio::awaitable<result<std::vector<IntegrityFinding>>> async_digest(std::string bucket, std::string key,
                                                                            std::string uncompressed,
                                                                            ObjectMetadata metadata, Diagnostics& diag);

  const IntegrityCounters& counters() const noexcept { return counters_; }

 private:
  struct Remembered {
    std::string sha256;
    std::string folder;  // prefix|org|account|region|kind
    SysTime name_time{};
  };
  struct ChainTail {
    std::string key, sha256, signature;
    SysTime start{};  ///< digestStartTime of that digest
  };
  boost::asio::awaitable<result<void>> load_keys(std::string home_region, Diagnostics& diag);

  AwsClient& client_;
  DrainIntegrityOptions opt_;
  std::map<std::string, PublicKeyRing> rings_;
  std::map<std::string, std::chrono::steady_clock::time_point> loaded_at_;
  std::map<std::string, Remembered, std::less<>> logs_;  // s3://bucket/key
  std::deque<std::string> order_;                        // insertion order, for the bound
  std::set<std::string, std::less<>> late_;              // expect_late_read: not remembered
  std::map<std::string, ChainTail> tails_;               // chain -> newest digest seen
  IntegrityCounters counters_;
};

}  // namespace ctsqs::integrity
