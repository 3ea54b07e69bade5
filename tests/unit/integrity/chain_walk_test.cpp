// Unit tests: digest keys, the check of one digest, the chain walk (missing, invalid, gap,
// unlisted) and the report lines, over digests signed here with a key made by OpenSSL.
#include "ctsqs/integrity/chain_walk.hpp"

#include "../catch_result.hpp"
#include "catch.hpp"
#include "trail_signer.hpp"

#include <algorithm>

using namespace ctsqs;
using namespace ctsqs::integrity;
using namespace std::chrono;

namespace {

SysTime at(std::string_view iso) {
  Diagnostics d;
  auto t = parse_backfill_time(iso, "t", d);
  REQUIRE(t);
  return *t;
}

std::string hours_iso(int h) {  // 2026-11-01T<h>:00:00Z, h may pass 23
  const auto t = sys_days{year{2026} / 11 / 1} + hours{h};
  return format_iso_seconds(t);
}

/// A trail of `n` hourly digests from 2026-11-01T00:00Z, each listing two log files.
struct Trail {
  test::TrailSigner signer;
  PublicKeyRing ring;
  std::vector<test::SignedDigest> digests;
  std::vector<FoundLog> logs;
  explicit Trail(int n, int restart_at = -1, std::string prefix = "") {
    ring.add(signer.public_key());
    for (int h = 0; h < n; ++h) {
      test::DigestSpec s;
      s.start = hours_iso(h);
      s.end = hours_iso(h + 1);
      s.key = test::digest_key(s.end, prefix);
      s.previous = h == 0 || h == restart_at ? nullptr : &digests.back();
      for (int m : {17, 41}) {
        const auto minute = s.start.substr(0, 14) + std::to_string(m);
        std::string id = "f";  // (appended: GCC 12 warns falsely, -Wrestrict, on "f" + std::to_string)
        id.append(std::to_string(h)).append("-").append(std::to_string(m));
        auto k = test::log_key(minute, id, prefix);
        s.logs.emplace_back(k, sha256_hex("content of " + k));
        logs.push_back({k, at(minute + "Z")});
      }
      digests.push_back(test::sign_digest(signer, s));
    }
  }
  WalkInput input(SysTime since, SysTime until) const {
    WalkInput in;
    in.bucket = "trail-bucket";
    in.account = "111122223333";
    in.region = "us-east-1";
    in.since = since;
    in.until = until;
    for (const auto& d : digests) in.digests.push_back(check_digest(d.bucket, d.key, d.json, d.metadata, ring));
    in.logs = logs;
    return in;
  }
};

std::size_t count(const std::vector<ReportRecord>& v, FileStatus s) {
  return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [&](const ReportRecord& r) { return r.status == s; }));
}

}  // namespace

TEST_CASE("integrity: digest keys", "[integrity]") {
  auto k = parse_digest_key("logs/AWSLogs/o-abc123/111122223333/CloudTrail-Digest/eu-west-1/2026/11/01/"
                            "111122223333_CloudTrail-Digest_eu-west-1_my_org_trail_us-east-1_20261101T050131Z.json.gz");
  REQUIRE(k);
  CHECK(k->layout.prefix == "logs/");
  CHECK(k->layout.org_id == "o-abc123");
  CHECK(k->layout.account == "111122223333");
  CHECK(k->layout.region == "eu-west-1");
  CHECK(k->trail_name == "my_org_trail");
  CHECK(k->home_region == "us-east-1");
  CHECK(k->end_time == at("2026-11-01T05:01:31Z"));
  CHECK_FALSE(k->backfill);
  // The backfill scanner's key parser gives digests their time too (so it lists them by range).
  REQUIRE(k->layout.file_time);
  CHECK(*k->layout.file_time == k->end_time);

  auto b = parse_digest_key("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/"
                            "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261101T050131Z_backfill.json.gz");
  REQUIRE(b);
  CHECK(b->backfill);
  CHECK(b->trail_name == "t");

  auto ins = parse_digest_key("AWSLogs/111122223333/CloudTrail-Insight-Digest/us-east-1/2026/11/01/"
                              "111122223333_CloudTrail-Insight-Digest_us-east-1_t_us-east-1_20261101T050131Z.json.gz");
  REQUIRE(ins);
  CHECK(ins->layout.kind == "CloudTrail-Insight-Digest");
  CHECK(ins->trail_name == "t");

  // Years a system_clock time cannot hold (nanoseconds since 1970 end in 2262) are not of the
  // layout: they overflowed (undefined behaviour, found by fuzz_digest_file under libFuzzer).
  CHECK_FALSE(parse_log_key("AWSLogs/111122223333/CloudTrail/us-east-1/3026/11/01/"
                            "111122223333_CloudTrail_us-east-1_20261101T0501Z_x.json.gz"));
  auto far_name = parse_log_key("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/"
                                "111122223333_CloudTrail_us-east-1_30261101T0501Z_x.json.gz");
  REQUIRE(far_name);
  CHECK_FALSE(far_name->file_time);

  for (const char* bad : {"AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/111122223333_CloudTrail_us-east-1_20261101T0501Z_x.json.gz",
                          "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/3026/11/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_30261101T050131Z.json.gz",
                          "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_30261101T050131Z.json.gz",
                          "AWSLogs/111122223333/CloudTrail-Insight-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261101T050131Z.json.gz",
                          "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261101T0501Z.json.gz",
                          "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/222233334444_CloudTrail-Digest_us-east-1_t_us-east-1_20261101T050131Z.json.gz",
                          "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_nohome_20261101T050131Z.json.gz",
                          "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261101T050131Z.json",
                          "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261301T050131Z.json.gz"}) {
    INFO(bad);
    CHECK_FALSE(parse_digest_key(bad));
  }
}

TEST_CASE("integrity: one digest checked", "[integrity]") {
  Trail t(2);
  const auto& d = t.digests[1];
  auto ok = check_digest(d.bucket, d.key, d.json, d.metadata, t.ring);
  CHECK(ok.status == FileStatus::valid);
  CHECK(ok.reason.empty());
  REQUIRE(ok.file);
  CHECK(ok.file->log_files.size() == 2);

  auto edited = d.json;
  edited.replace(edited.find("f1-17"), 5, "f1-18");
  auto e = check_digest(d.bucket, d.key, edited, d.metadata, t.ring);
  CHECK(e.status == FileStatus::invalid);
  CHECK(e.reason == "signature verification failed");

  auto no_meta = check_digest(d.bucket, d.key, d.json, {}, t.ring);
  CHECK(no_meta.status == FileStatus::invalid);
  CHECK(no_meta.reason.starts_with("signature verification failed: the object has no x-amz-meta-signature"));

  auto moved = check_digest(d.bucket, "copy/" + d.key, d.json, d.metadata, t.ring);
  CHECK(moved.status == FileStatus::invalid);
  CHECK(moved.reason.starts_with("has been moved from its original location"));
  CHECK(check_digest("other-bucket", d.key, d.json, d.metadata, t.ring).reason.starts_with("has been moved"));

  PublicKeyRing empty;
  auto unknown = check_digest(d.bucket, d.key, d.json, d.metadata, empty);
  CHECK(unknown.reason == "public key not found for fingerprint " + t.signer.fingerprint());

  auto meta = d.metadata;
  meta["signature-algorithm"] = "SHA1withRSA";
  CHECK(check_digest(d.bucket, d.key, d.json, meta, t.ring).reason.starts_with("unsupported signature algorithm"));

  auto junk = check_digest(d.bucket, d.key, "{oops", d.metadata, t.ring);
  CHECK(junk.status == FileStatus::invalid);
  CHECK(junk.reason.starts_with("invalid format: digest: not JSON"));

  // Signed by another key that claims the same fingerprint: refused.
  test::TrailSigner impostor(t.signer.fingerprint());
  test::DigestSpec s;
  s.start = hours_iso(1);
  s.end = hours_iso(2);
  s.key = d.key;
  auto forged = test::sign_digest(impostor, s);
  CHECK(check_digest(forged.bucket, forged.key, forged.json, forged.metadata, t.ring).reason == "signature verification failed");
}

TEST_CASE("integrity: an intact chain", "[integrity]") {
  Trail t(6);
  auto r = walk_digest_chains(t.input(at("2026-11-01T00:00Z"), at("2026-11-01T05:00Z")));
  CHECK(r.digests.size() == 6);
  CHECK(count(r.digests, FileStatus::valid) == 6);
  CHECK(r.gaps.empty());
  CHECK(r.unlisted.empty());
  CHECK(r.uncovered == 0);
  CHECK(r.logs.size() == 12);
  CHECK(r.logs[0].digest == "s3://trail-bucket/" + t.digests[0].key);
  CHECK(r.logs[0].sha256 == sha256_hex("content of " + r.logs[0].key));
}

TEST_CASE("integrity: a deleted digest is missing, its neighbours stay valid", "[integrity]") {
  Trail t(6);
  auto in = t.input(at("2026-11-01T00:00Z"), at("2026-11-01T05:00Z"));
  const std::string gone = in.digests[3].key;
  in.digests.erase(in.digests.begin() + 3);
  auto r = walk_digest_chains(in);
  CHECK(count(r.digests, FileStatus::valid) == 5);
  REQUIRE(count(r.digests, FileStatus::missing) == 1);
  const auto m = std::find_if(r.digests.begin(), r.digests.end(), [](const ReportRecord& x) { return x.status == FileStatus::missing; });
  CHECK(m->uri == "s3://trail-bucket/" + gone);
  CHECK(m->reason.starts_with("not found (named as the previous digest by s3://trail-bucket/"));
  CHECK(r.gaps.empty());
  // Its hour is no longer covered: its log files are not called unlisted (they may be its own),
  // they are counted as not proven.
  CHECK(r.unlisted.empty());
  CHECK(r.uncovered == 2);
  CHECK(r.logs.size() == 10);

  // The first digest of the range points before the range: not checked there.
  auto in2 = t.input(at("2026-11-01T02:00Z"), at("2026-11-01T05:00Z"));
  in2.digests.erase(in2.digests.begin());  // 01:00, before since
  auto r2 = walk_digest_chains(in2);
  CHECK(count(r2.digests, FileStatus::missing) == 0);
}

TEST_CASE("integrity: a digest edited to hide a log file is invalid, the file unverified", "[integrity]") {
  Trail t(4);
  auto in = t.input(at("2026-11-01T00:00Z"), at("2026-11-01T04:00Z"));
  auto& d = t.digests[2];
  std::string edited = d.json;
  const auto from = edited.find("{\"s3Bucket\"");
  const auto to = edited.find("},", from) + 2;  // drop the first log file
  edited.erase(from, to - from);
  in.digests[2] = check_digest(d.bucket, d.key, edited, d.metadata, t.ring);
  auto r = walk_digest_chains(in);
  CHECK(count(r.digests, FileStatus::invalid) == 1);
  CHECK(r.digests[2].reason == "signature verification failed");
  CHECK(r.logs.size() == 6);
  CHECK(r.unlisted.empty());  // its hour is not covered by a valid digest
}

TEST_CASE("integrity: a link that does not match makes the previous digest invalid", "[integrity]") {
  // Digest 1 re-signed (same key, same place) with other content: valid alone, but digest 2's
  // link names the original's hash and signature.
  Trail t(3);
  auto in = t.input(at("2026-11-01T00:00Z"), at("2026-11-01T03:00Z"));
  test::DigestSpec s;
  s.start = hours_iso(1);
  s.end = hours_iso(2);
  s.key = t.digests[1].key;
  s.previous = &t.digests[0];
  auto other = test::sign_digest(t.signer, s);
  in.digests[1] = check_digest(other.bucket, other.key, other.json, other.metadata, t.ring);
  REQUIRE(in.digests[1].status == FileStatus::valid);
  auto r = walk_digest_chains(in);
  REQUIRE(count(r.digests, FileStatus::invalid) == 1);
  CHECK(r.digests[1].reason.starts_with("its SHA-256 does not match previousDigestHashValue of s3://trail-bucket/"));
}

TEST_CASE("integrity: a chain that restarts is a gap, not a failure", "[integrity]") {
  Trail t(6, /*restart_at=*/4);
  auto r = walk_digest_chains(t.input(at("2026-11-01T00:00Z"), at("2026-11-01T06:00Z")));
  CHECK(count(r.digests, FileStatus::valid) == 6);
  REQUIRE(r.gaps.size() == 1);
  CHECK(r.gaps[0].from == at("2026-11-01T04:00Z"));
  CHECK(r.gaps[0].to == at("2026-11-01T04:00Z"));
  CHECK(to_json_line(r.gaps[0]) ==
        R"({"type":"gap","account":"111122223333","region":"us-east-1","from":"2026-11-01T04:00:00Z","to":"2026-11-01T04:00:00Z"})");
  // The first digest of the range starting a chain is no gap.
  Trail t2(3, 0);
  CHECK(walk_digest_chains(t2.input(at("2026-11-01T00:00Z"), at("2026-11-01T03:00Z"))).gaps.empty());
}

TEST_CASE("integrity: a log file no digest lists is unlisted when valid digests cover its time", "[integrity]") {
  Trail t(4);
  auto in = t.input(at("2026-11-01T00:00Z"), at("2026-11-01T04:00Z"));
  const auto injected = test::log_key("2026-11-01T02:30", "injected");
  in.logs.push_back({injected, at("2026-11-01T02:30Z")});
  // At the edge of the covered time (00:02 with a 5-minute margin) or outside the range: not judged.
  in.logs.push_back({test::log_key("2026-11-01T00:02", "edge"), at("2026-11-01T00:02Z")});
  in.logs.push_back({test::log_key("2026-11-01T04:30", "later"), at("2026-11-01T04:30Z")});
  auto r = walk_digest_chains(in);
  CHECK(r.uncovered == 1);  // the edge one (04:30 is outside the range)
  REQUIRE(r.unlisted.size() == 1);
  CHECK(r.unlisted[0].uri == "s3://trail-bucket/" + injected);
  CHECK(to_json_line(r.unlisted[0]) ==
        "{\"type\":\"unlisted\",\"uri\":\"s3://trail-bucket/" + injected + "\",\"account\":\"111122223333\",\"region\":\"us-east-1\"}");

  // With the hour's digest invalid, nothing is claimed about that hour.
  in.digests[2].status = FileStatus::invalid;
  CHECK(walk_digest_chains(in).unlisted.empty());
}

TEST_CASE("integrity: log records and report lines", "[integrity]") {
  LogExpectation e{"b", "k.json.gz", std::string(64, 'a'), "s3://b/d.json.gz"};
  auto ok = log_record(e, FileStatus::valid, std::string(64, 'A'));
  CHECK(ok.status == FileStatus::valid);
  CHECK(to_json_line(ok) == R"({"type":"log","uri":"s3://b/k.json.gz","status":"valid","reason":"","digest":"s3://b/d.json.gz"})");
  auto bad = log_record(e, FileStatus::valid, std::string(64, 'b'));
  CHECK(bad.status == FileStatus::invalid);
  CHECK(bad.reason.starts_with("hash value doesn't match"));
  auto gone = log_record(e, FileStatus::missing, "");
  CHECK(to_json_line(gone) ==
        R"({"type":"log","uri":"s3://b/k.json.gz","status":"missing","reason":"not found","digest":"s3://b/d.json.gz"})");
  ReportRecord d;
  d.type = ReportRecord::Type::digest;
  d.uri = "s3://b/\"q\"";
  d.status = FileStatus::invalid;
  d.reason = "signature verification failed";
  CHECK(to_json_line(d) == R"({"type":"digest","uri":"s3://b/\"q\"","status":"invalid","reason":"signature verification failed"})");

  ReportCounts c;
  for (const auto* r : {&ok, &bad, &gone, &d}) c.add(*r);
  CHECK(c.logs_valid == 1);
  CHECK(c.logs_invalid == 1);
  CHECK(c.logs_missing == 1);
  CHECK(c.digests_invalid == 1);
  CHECK_FALSE(c.clean());
}
