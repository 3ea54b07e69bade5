// DrainIntegrity: digests checked as they arrive on the queue, log files compared with the hash
// computed while they were read, findings as log lines, counters and integrity events.
#include "ctsqs/integrity/drain_integrity.hpp"

#include "../detail/text.hpp"

#include "ctsqs/aws/client.hpp"
#include "../detail/json_escape.hpp"

#include <algorithm>
#include <set>

namespace ctsqs::integrity {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

std::string folder_of(const LogKey& k) {
  const std::string kind = k.kind == "CloudTrail-Digest" ? "CloudTrail"
                           : k.kind == "CloudTrail-Insight-Digest" ? "CloudTrail-Insight"
                                                                   : k.kind;
  return k.prefix + "|" + k.org_id + "|" + k.account + "|" + k.region + "|" + kind;
}

std::string uri(std::string_view bucket, std::string_view key) {
  std::string u = "s3://";
  u.append(bucket).append("/").append(key);
  return u;
}

}  // namespace

bool is_digest_key(std::string_view key) { return parse_digest_key(key).has_value(); }

bool is_log_key(std::string_view key) {
  auto k = parse_log_key(key);
  return k && (k->kind == "CloudTrail" || k->kind == "CloudTrail-Insight") && k->file_time && key.ends_with(".json.gz");
}

Event make_integrity_event(const IntegrityFinding& f, std::string_view collector_id) {
  Event e;
  e.tag = "cloud.aws.cloudtrail.integrity";
  std::string cols;
  auto add = [&](std::string_view name, std::string_view value) {
    if (!cols.empty()) cols += ',';
    cols += '"';
    cols += name;
    cols += "\":";
    detail::append_json_string(cols, value);
  };
  add("kind", f.kind);
  add("file", f.file);
  add("digest", f.digest);
  add("reason", f.reason);
  add("collector_id", collector_id);
  e.columns = cols;
  e.record = "{" + cols + "}";
  e.event_source = "cloudtrail.integrity";
  e.event_type = "IntegrityFinding";
  return e;
}

DrainIntegrity::DrainIntegrity(AwsClient& client, DrainIntegrityOptions options) : client_(client), opt_(options) {}

void DrainIntegrity::log_read(std::string bucket, std::string key, std::string sha256) {
  auto k = parse_log_key(key);
  if (!k || !k->file_time) return;
  auto u = uri(bucket, key);
  if (late_.count(u)) return;  // a heal's read: its digest came before it
  auto [it, inserted] = logs_.insert_or_assign(u, Remembered{std::move(sha256), folder_of(*k), *k->file_time});
  if (inserted) order_.push_back(std::move(u));
  // The oldest are forgotten beyond the bound; names of files already listed (erased) are
  // dropped from the front, and the whole order is compacted when they pile up behind one.
  while (!order_.empty() && (logs_.size() > opt_.max_remembered_logs || !logs_.count(order_.front()))) {
    logs_.erase(order_.front());
    order_.pop_front();
  }
  if (order_.size() > 2 * logs_.size() + 1024) {
    std::erase_if(order_, [&](const std::string& name) { return !logs_.count(name); });
  }
}

void DrainIntegrity::expect_late_read(std::string_view bucket, std::string_view key) {
  late_.insert(uri(bucket, key));
}

void DrainIntegrity::forget_read(std::string_view bucket, std::string_view key) {
  const auto u = uri(bucket, key);
  late_.erase(u);
  // Its name stays in order_ until it reaches the front or the next compaction (see log_read).
  if (auto it = logs_.find(u); it != logs_.end()) logs_.erase(it);
}

asio::awaitable<result<void>> DrainIntegrity::load_keys(std::string home_region, Diagnostics& diag) {
  auto& ring = rings_[home_region];
  std::string token;
  for (int page = 0; page < 100; ++page) {
    auto ep = resolve_endpoint(AwsService::cloudtrail, home_region, client_.endpoint_config(), client_.env(), diag);
    if (!ep) co_return ep.error();
    ListPublicKeysParams p;
    p.endpoint = *ep;
    // Keys valid over the last 30 days and the next one: digests that arrive are recent.
    p.start_time = system_clock::now() - hours(24 * 30);
    p.end_time = system_clock::now() + hours(24);
    p.next_token = token;
    auto req = make_list_public_keys_request(p, diag);
    if (!req) co_return req.error();
    CallOptions co;
    co.operation = "ListPublicKeys";
    co.region = ep->signing_region.empty() ? home_region : ep->signing_region;
    Diagnostics d;
    auto resp = co_await client_.async_call("cloudtrail", std::move(*req), co, d);
    if (!resp) {
      diag = d;
      diag.message = "CloudTrail ListPublicKeys in " + home_region + ": " + (d.message.empty() ? resp.error().message() : d.message);
      co_return resp.error();
    }
    auto parsed = parse_list_public_keys_response(resp->body, diag);
    if (!parsed) co_return parsed.error();
    for (auto& k : parsed->keys) ring.add(std::move(k));
    if (parsed->next_token.empty() || parsed->next_token == token) break;
    token = parsed->next_token;
  }
  loaded_at_[home_region] = steady_clock::now();
  co_return result<void>{};
}

asio::awaitable<result<std::vector<IntegrityFinding>>> DrainIntegrity::async_digest(std::string bucket, std::string key,
                                                                                  std::string uncompressed,
                                                                                  ObjectMetadata metadata,
                                                                                  Diagnostics& diag) {
  std::vector<IntegrityFinding> out;
  const std::string digest_uri = uri(bucket, key);
  const auto where = parse_digest_key(key);
  // The keys of the digest's home region: loaded once, again when a fingerprint is unknown.
  if (where) {
    Diagnostics pd;
    auto parsed = parse_digest_file(uncompressed, pd);
    const auto loaded = loaded_at_.find(where->home_region);
    const bool unknown = parsed && !rings_[where->home_region].find(parsed->digest_public_key_fingerprint);
    if (loaded == loaded_at_.end() ||
        (unknown && steady_clock::now() - loaded->second >= opt_.key_reload_interval)) {
      auto r = co_await load_keys(where->home_region, diag);
      if (!r) co_return r.error();
    }
  }
  static const PublicKeyRing none;
  const auto ring = where ? rings_.find(where->home_region) : rings_.end();
  auto c = check_digest(bucket, key, uncompressed, metadata, ring == rings_.end() ? none : ring->second);
  if (c.status != FileStatus::valid) {
    ++counters_.digests_invalid;
    out.push_back({"invalid_digest", digest_uri, digest_uri, c.reason});
    co_return out;
  }
  ++counters_.digests_valid;
  const auto& f = *c.file;
  // The chain link, when this process saw the previous digest.
  const std::string folder = folder_of(where->layout);
  const std::string chain = folder + "|" + where->trail_name + "|" + where->home_region + (where->backfill ? "|b" : "");
  SysTime covered_from = f.start;  // with the previous digest linked: from its start
  if (auto t = tails_.find(chain); t != tails_.end() && f.previous_digest_s3_object &&
                                   *f.previous_digest_s3_object == t->second.key &&
                                   f.previous_digest_s3_bucket.value_or(bucket) == bucket) {
    const bool hash_ok = !f.previous_digest_hash_value || *f.previous_digest_hash_value == t->second.sha256;
    const bool sig_ok = f.previous_digest_signature && *f.previous_digest_signature == t->second.signature;
    if (!hash_ok || !sig_ok) {
      ++counters_.digests_invalid;
      out.push_back({"invalid_digest", uri(bucket, t->second.key), digest_uri,
                     std::string(hash_ok ? "its signature" : "its SHA-256") + " does not match the link of " + digest_uri});
    } else {
      covered_from = t->second.start;
    }
  }
  tails_[chain] = {key, c.sha256, c.signature, f.start};
  if (opt_.on_valid_digest) {
    VerifiedDigest v;
    v.uri = digest_uri;
    for (const auto& lf : f.log_files) v.files.push_back({lf.s3_bucket, lf.s3_object, lf.hash_value});
    opt_.on_valid_digest(std::move(v));
  }
  // The log files it lists that this process read.
  std::set<std::string> listed;
  for (const auto& lf : f.log_files) {
    auto u = uri(lf.s3_bucket, lf.s3_object);
    auto it = logs_.find(u);
    listed.insert(u);
    if (it == logs_.end()) continue;
    if (it->second.sha256 == lf.hash_value || (lf.hash_value.size() == 64 && ctsqs::detail::lower(lf.hash_value) == it->second.sha256)) {
      ++counters_.logs_matched;
    } else {
      ++counters_.logs_mismatched;
      out.push_back({"mismatch", u, digest_uri,
                     "SHA-256 of the uncompressed content read " + it->second.sha256 + ", the digest says " +
                         lf.hash_value.substr(0, 80)});
    }
    logs_.erase(it);
  }
  // Files this process read whose time this digest covers and that it does not list.
  if (!where->backfill) {
    const SysTime lo = covered_from + opt_.unlisted_margin, hi = f.end - opt_.unlisted_margin - minutes(1);
    for (auto it = logs_.begin(); it != logs_.end();) {
      const auto& r = it->second;
      if (r.folder == folder && r.name_time >= lo && r.name_time <= hi && !listed.count(it->first)) {
        ++counters_.logs_unlisted;
        out.push_back({"unlisted", it->first, digest_uri, "read from the bucket, inside the digest's time, not listed by it"});
        it = logs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  co_return out;
}

}  // namespace ctsqs::integrity
