// The digest chain of a trail, sans-I/O: digest keys, the check of one fetched digest, and the
// walk over a listing that finds missing, invalid and unlisted files and logging gaps.
//
// Key layout: `[prefix/]AWSLogs/[o-<org>/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
// <account>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz`
// (AWS CloudTrail User Guide, "CloudTrail digest file structure"); Insights files have their own
// chain under `CloudTrail-Insight-Digest/` (`..._CloudTrail-Insight-Digest_...`). The layout part
// is read by the backfill's parse_log_key.
#pragma once

#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/integrity/digest_file.hpp"
#include "ctsqs/integrity/public_keys.hpp"
#include "ctsqs/integrity/report.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::integrity {

/// A digest file's key.
struct DigestKey {
  LogKey layout;            ///< prefix, organization, account, region, day; kind "CloudTrail-Digest" or "CloudTrail-Insight-Digest"
  std::string trail_name;
  std::string home_region;  ///< the trail's home region
  SysTime end_time{};       ///< the digest's end time, from its name
  bool backfill = false;    ///< a backfill digest (`_backfill.json.gz`)
};

/// Reads a digest key; nullopt when it does not follow the layout.
std::optional<DigestKey> parse_digest_key(std::string_view key);

/// User metadata of an S3 object: names lowercased without `x-amz-meta-` ("signature",
/// "signature-algorithm", "backfill-generation-timestamp").
using ObjectMetadata = std::map<std::string, std::string, std::less<>>;

/// One digest of a listing after its fetch and check.
struct CheckedDigest {
  std::string bucket, key;
  std::optional<DigestKey> where;  ///< the key parsed (nullopt: not of the layout)
  FileStatus status = FileStatus::invalid;
  std::string reason;              ///< why invalid or missing ("" when valid)
  std::optional<DigestFile> file;  ///< parsed (also when its signature failed)
  std::string signature;           ///< hex, from the metadata
  std::string sha256;              ///< hex SHA-256 of the uncompressed digest
  std::string uri() const { return "s3://" + bucket + "/" + key; }
};

/// Checks one fetched digest, in validate-logs' order: JSON ("invalid format"), signature
/// metadata, location (digestS3Bucket/digestS3Object must be where it was found), the public
/// key named by its fingerprint, the SHA256withRSA signature. Backfill digests also need the
/// `backfill-generation-timestamp` metadata.
CheckedDigest check_digest(std::string bucket, std::string key, std::string_view uncompressed,
                           const ObjectMetadata& metadata, const PublicKeyRing& keys);

/// A digest that could not be read: gone (missing) or unreadable (invalid, e.g. not gzip).
CheckedDigest unreadable_digest(std::string bucket, std::string key, FileStatus status, std::string reason);

/// A log file found in the bucket (not necessarily listed by a digest).
struct FoundLog {
  std::string key;
  SysTime name_time{};  ///< the minute its name carries
};

/// What the walk needs: the digests of one folder (prefix, organization, account, region, digest
/// kind) whose name time lies in [since, until + 1 h], checked, and the log files of the kind
/// they cover (CloudTrail-Digest: CloudTrail, CloudTrail-Insight-Digest: CloudTrail-Insight) of
/// the same folder whose name time lies in [since, until).
struct WalkInput {
  std::string bucket;
  std::string account, region;  ///< for gap records
  SysTime since{}, until{};
  std::vector<CheckedDigest> digests;
  std::vector<FoundLog> logs;
  /// A log file counts as covered by valid digests when [name time - margin, name time + 1 min +
  /// margin] lies inside the time they cover (names carry the delivery minute; digests cover
  /// delivery hours).
  std::chrono::minutes unlisted_margin{5};
};

/// A log file a valid digest lists: its expected SHA-256 of the uncompressed content.
struct LogExpectation {
  std::string bucket, key;
  std::string sha256;   ///< hex, lowercase
  std::string digest;   ///< "s3://bucket/key" of the digest that lists it
  std::string uri() const { return "s3://" + bucket + "/" + key; }
};

/// What the walk found.
struct WalkResult {
  std::vector<ReportRecord> digests;  ///< one per digest (valid, invalid, or missing: named by a link and absent)
  std::vector<ReportRecord> gaps;     ///< the chain restarted (previousDigestSignature null after earlier digests)
  std::vector<LogExpectation> logs;   ///< to fetch and hash, from valid digests only
  std::vector<ReportRecord> unlisted; ///< in the bucket, covered by valid digests, listed by none
  /// Log files in the range listed by no digest and outside the time valid digests cover (a
  /// gap, an invalid or missing digest's hour): nothing is proven about them.
  std::uint64_t uncovered = 0;
};

/// The walk. Per chain (trail, home region, backfill or not), in time order:
/// - a digest whose `previousDigestS3Object` (same bucket) is not in the listing while its time
///   lies in the range is *missing*; one named by no one and absent is not seen (the newest of a
///   range: check up to a time after the last digest you care about);
/// - a valid digest's link must match the previous digest: `previousDigestHashValue` its SHA-256
///   and `previousDigestSignature` its signature, else the previous digest is *invalid*;
/// - a regular digest that starts a chain after earlier digests is a *gap* (from the end of the
///   one before it to its start): reported, not a failure;
/// - every log file a valid digest lists is to be checked;
/// - a log file whose name time lies inside the time covered by valid regular digests and that
///   no digest of the folder lists is *unlisted*.
WalkResult walk_digest_chains(const WalkInput& input);

/// The record of a log file checked against its expectation: `computed_sha256` of the
/// uncompressed bytes, or nullopt when the file is gone (`why` then says so) or unreadable.
ReportRecord log_record(const LogExpectation& expected, FileStatus fetch_status, std::string_view computed_sha256,
                        std::string why = {});

}  // namespace ctsqs::integrity
