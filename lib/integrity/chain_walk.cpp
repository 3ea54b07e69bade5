// Digest keys, the check of one fetched digest, and the chain walk over a listing.
#include "ctsqs/integrity/chain_walk.hpp"
#include "../detail/text.hpp"
#include "ctsqs/transport/http.hpp"

#include <algorithm>
#include <set>

namespace ctsqs::integrity {

using namespace std::chrono;

namespace {

using ctsqs::detail::all_digits;

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

/// "YYYYMMDDTHHMMSSZ".
std::optional<SysTime> digest_name_time(std::string_view t) {
  if (t.size() != 16 || t[8] != 'T' || t[15] != 'Z' || !all_digits(t.substr(0, 8)) || !all_digits(t.substr(9, 6)))
    return std::nullopt;
  const year_month_day ymd{year{to_int(t.substr(0, 4))}, month{static_cast<unsigned>(to_int(t.substr(4, 2)))},
                           day{static_cast<unsigned>(to_int(t.substr(6, 2)))}};
  const int h = to_int(t.substr(9, 2)), mi = to_int(t.substr(11, 2)), s = to_int(t.substr(13, 2));
  // SysTime (nanoseconds from 1970) ends in 2262: later years would overflow.
  if (!ymd.ok() || ymd.year() < year{1970} || ymd.year() > year{2200} || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

std::optional<DigestKey> parse_digest_key(std::string_view key) {
  auto layout = parse_log_key(key);
  if (!layout || (layout->kind != "CloudTrail-Digest" && layout->kind != "CloudTrail-Insight-Digest")) return std::nullopt;
  std::string_view name = key.substr(layout->day_prefix.size());
  if (!name.ends_with(".json.gz")) return std::nullopt;
  name.remove_suffix(8);
  DigestKey k;
  if (name.ends_with("_backfill")) {
    k.backfill = true;
    name.remove_suffix(9);
  }
  if (name.size() < 17 || name[name.size() - 17] != '_') return std::nullopt;
  auto t = digest_name_time(name.substr(name.size() - 16));
  if (!t) return std::nullopt;
  k.end_time = *t;
  name.remove_suffix(17);
  const std::string head = layout->account + "_" + layout->kind + "_" + layout->region + "_";
  if (!name.starts_with(head)) return std::nullopt;
  name.remove_prefix(head.size());
  const auto us = name.rfind('_');
  if (us == std::string_view::npos || us == 0 || us + 1 >= name.size()) return std::nullopt;
  k.trail_name = std::string(name.substr(0, us));
  k.home_region = std::string(name.substr(us + 1));
  k.layout = std::move(*layout);
  return k;
}

CheckedDigest unreadable_digest(std::string bucket, std::string key, FileStatus status, std::string reason) {
  CheckedDigest c;
  c.where = parse_digest_key(key);
  c.bucket = std::move(bucket);
  c.key = std::move(key);
  c.status = status;
  c.reason = std::move(reason);
  return c;
}

CheckedDigest check_digest(std::string bucket, std::string key, std::string_view uncompressed,
                           const ObjectMetadata& metadata, const PublicKeyRing& keys) {
  CheckedDigest c;
  c.where = parse_digest_key(key);
  c.bucket = std::move(bucket);
  c.key = std::move(key);
  c.sha256 = sha256_hex(uncompressed);
  c.status = FileStatus::invalid;
  Diagnostics d;
  auto parsed = parse_digest_file(uncompressed, d);
  if (!parsed) {
    c.reason = "invalid format: " + d.message;
    return c;
  }
  c.file = std::move(*parsed);
  const auto sig = metadata.find("signature");
  const auto alg = metadata.find("signature-algorithm");
  if (sig == metadata.end() || alg == metadata.end()) {
    c.reason = "signature verification failed: the object has no x-amz-meta-signature and "
               "x-amz-meta-signature-algorithm metadata";
    return c;
  }
  c.signature = lower(sig->second);
  if (c.where && c.where->backfill && !metadata.count("backfill-generation-timestamp")) {
    c.reason = "invalid format: a backfill digest without x-amz-meta-backfill-generation-timestamp";
    return c;
  }
  if (c.file->digest_s3_bucket != c.bucket || c.file->digest_s3_object != c.key) {
    c.reason = "has been moved from its original location (it says s3://" + c.file->digest_s3_bucket.substr(0, 256) +
               "/" + c.file->digest_s3_object.substr(0, 1024) + ")";
    return c;
  }
  if (!ctsqs::iequals(alg->second, "SHA256withRSA")) {
    c.reason = "unsupported signature algorithm \"" + alg->second.substr(0, 40) + "\" (expected SHA256withRSA)";
    return c;
  }
  const auto* pk = keys.find(c.file->digest_public_key_fingerprint);
  if (!pk) {
    c.reason = "public key not found for fingerprint " + c.file->digest_public_key_fingerprint.substr(0, 80);
    return c;
  }
  Diagnostics sd;
  auto ok = verify_digest_signature(digest_string_to_sign(*c.file, c.sha256), c.signature, pk->der, sd);
  if (!ok) {
    c.reason = ok.error() == integrity_errc::unusable_public_key
                   ? "unable to load the public key with fingerprint " + c.file->digest_public_key_fingerprint.substr(0, 80)
                   : std::string("signature verification failed");
    return c;
  }
  c.status = FileStatus::valid;
  return c;
}

ReportRecord log_record(const LogExpectation& expected, FileStatus fetch_status, std::string_view computed_sha256,
                        std::string why) {
  ReportRecord r;
  r.type = ReportRecord::Type::log;
  r.uri = expected.uri();
  r.digest = expected.digest;
  if (fetch_status != FileStatus::valid) {
    r.status = fetch_status;
    r.reason = why.empty() ? (fetch_status == FileStatus::missing ? "not found" : "invalid format") : std::move(why);
    return r;
  }
  if (ctsqs::iequals(computed_sha256, expected.sha256)) {
    r.status = FileStatus::valid;
    return r;
  }
  r.status = FileStatus::invalid;
  r.reason = "hash value doesn't match (SHA-256 of the uncompressed content " + std::string(computed_sha256) +
             ", the digest says " + expected.sha256.substr(0, 80) + ")";
  return r;
}

WalkResult walk_digest_chains(const WalkInput& in) {
  WalkResult out;
  // Chains: trail + home region + backfill, each in time order.
  struct ChainId {
    std::string trail, home;
    bool backfill;
    auto operator<=>(const ChainId&) const = default;
  };
  std::map<ChainId, std::vector<const CheckedDigest*>> chains;
  std::map<std::string, const CheckedDigest*, std::less<>> by_key;
  std::vector<const CheckedDigest*> stray;  // not of the layout: judged alone
  for (const auto& d : in.digests) {
    by_key[d.key] = &d;
    if (!d.where) {
      stray.push_back(&d);
      continue;
    }
    chains[{d.where->trail_name, d.where->home_region, d.where->backfill}].push_back(&d);
  }
  // Pass 1: statuses, with links checked (a link can make the previous digest invalid).
  std::map<const CheckedDigest*, std::pair<FileStatus, std::string>> status;
  for (const auto& d : in.digests) status[&d] = {d.status, d.reason};
  std::map<std::string, std::string> missing;  // key -> reason (named by a link, absent)
  for (auto& [id, list] : chains) {
    std::sort(list.begin(), list.end(), [](const CheckedDigest* a, const CheckedDigest* b) {
      return a->where->end_time != b->where->end_time ? a->where->end_time < b->where->end_time : a->key < b->key;
    });
    for (std::size_t i = 0; i < list.size(); ++i) {
      const CheckedDigest& d = *list[i];
      if (d.status != FileStatus::valid) continue;
      const auto& f = *d.file;
      const bool restart = !f.previous_digest_s3_object || !f.previous_digest_signature;
      if (restart) {
        if (!id.backfill && i > 0) {
          const CheckedDigest& before = *list[i - 1];
          ReportRecord g;
          g.type = ReportRecord::Type::gap;
          g.account = in.account;
          g.region = in.region;
          g.from = before.file ? before.file->end : before.where->end_time;
          g.to = f.start;
          out.gaps.push_back(std::move(g));
        }
        continue;
      }
      const std::string prev_bucket = f.previous_digest_s3_bucket.value_or(in.bucket);
      if (prev_bucket != in.bucket) continue;  // the trail wrote to another bucket before: not listed here
      const std::string& prev = *f.previous_digest_s3_object;
      auto it = by_key.find(prev);
      if (it == by_key.end()) {
        auto pk = parse_digest_key(prev);
        if (!pk || pk->end_time >= in.since)
          missing.emplace(prev, "not found (named as the previous digest by " + d.uri() + ")");
        continue;
      }
      const CheckedDigest& p = *it->second;
      if (p.status != FileStatus::valid) continue;  // already reported as what it is
      if (f.previous_digest_hash_value && !ctsqs::iequals(*f.previous_digest_hash_value, p.sha256))
        status[&p] = {FileStatus::invalid, "its SHA-256 does not match previousDigestHashValue of " + d.uri()};
      else if (!ctsqs::iequals(*f.previous_digest_signature, p.signature))
        status[&p] = {FileStatus::invalid, "its signature does not match previousDigestSignature of " + d.uri()};
    }
  }
  // Pass 2: records, expectations, coverage, listed log files.
  std::set<std::string, std::less<>> listed;  // keys of this bucket that any parsed digest lists
  std::vector<std::pair<SysTime, SysTime>> covered;
  auto emit = [&](const CheckedDigest& d) {
    ReportRecord r;
    r.type = ReportRecord::Type::digest;
    r.uri = d.uri();
    std::tie(r.status, r.reason) = status[&d];
    if (d.file)
      for (const auto& lf : d.file->log_files)
        if (lf.s3_bucket == in.bucket) listed.insert(lf.s3_object);
    if (r.status == FileStatus::valid) {
      for (const auto& lf : d.file->log_files)
        out.logs.push_back({lf.s3_bucket, lf.s3_object, lower(lf.hash_value), r.uri});
      if (d.where && !d.where->backfill) covered.emplace_back(d.file->start, d.file->end);
    }
    out.digests.push_back(std::move(r));
  };
  for (const auto& [id, list] : chains)
    for (const auto* d : list) emit(*d);
  for (const auto* d : stray) emit(*d);
  for (auto& [key, why] : missing) {
    ReportRecord r;
    r.type = ReportRecord::Type::digest;
    r.uri = "s3://" + in.bucket + "/" + key;
    r.status = FileStatus::missing;
    r.reason = why;
    out.digests.push_back(std::move(r));
  }
  // Unlisted: covered by valid digests, listed by none.
  std::sort(covered.begin(), covered.end());
  std::vector<std::pair<SysTime, SysTime>> merged;
  for (const auto& c : covered) {
    if (!merged.empty() && c.first <= merged.back().second + seconds(1))
      merged.back().second = std::max(merged.back().second, c.second);
    else
      merged.push_back(c);
  }
  for (const auto& l : in.logs) {
    if (listed.count(l.key)) continue;
    if (l.name_time < in.since || l.name_time >= in.until) continue;
    const SysTime lo = l.name_time - in.unlisted_margin, hi = l.name_time + minutes(1) + in.unlisted_margin;
    const bool inside = std::any_of(merged.begin(), merged.end(), [&](const auto& m) { return m.first <= lo && hi <= m.second; });
    if (!inside) {
      ++out.uncovered;
      continue;
    }
    ReportRecord r;
    r.type = ReportRecord::Type::unlisted;
    r.uri = "s3://" + in.bucket + "/" + l.key;
    r.account = in.account;
    r.region = in.region;
    out.unlisted.push_back(std::move(r));
  }
  return out;
}

}  // namespace ctsqs::integrity
