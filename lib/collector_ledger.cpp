// The collector's use of the delivery ledger: batched lookups, skip decisions, group commit.
#include "collector_ledger.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace ctsqs::detail {

LedgerHook::LedgerHook(asio::any_io_executor ex, Ledger& ledger, const MessagePlanner& planner, Metrics& metrics,
                       std::function<void(std::string_view)> log)
    : ex_(ex), ledger_(ledger), planner_(planner), metrics_(metrics), log_(std::move(log)), recorded_(ex) {}

asio::awaitable<std::vector<std::shared_ptr<LedgerHook::Prepared>>> LedgerHook::prepare(
    const std::vector<SqsMessage>& msgs) {
  auto self = shared_from_this();
  std::vector<std::shared_ptr<Prepared>> out;
  std::vector<ObjectRef> objects;
  for (const auto& m : msgs) {
    auto p = std::make_shared<Prepared>();
    p->plan = planner_(m, p->plan_diag);
    if (*p->plan && (*p->plan)->kind == MessagePlan::Kind::objects)
      objects.insert(objects.end(), (*p->plan)->objects.begin(), (*p->plan)->objects.end());
    out.push_back(std::move(p));
  }
  if (objects.empty()) co_return out;
  Diagnostics d;
  const auto n = objects.size();
  auto found = co_await ledger_.async_lookup(std::move(objects), d);
  if (!found || found->size() != n) {
    metrics_.ledger_errors.fetch_add(1, std::memory_order_relaxed);
    log_("ctsqs: ledger " + ledger_.describe() + ": lookup of " + std::to_string(n) + " object(s) failed (" +
         (found ? std::string("wrong answer size") : found.error().message()) + (d.empty() ? "" : " — " + to_string(d)) +
         "); delivering them without it");
    co_return out;
  }
  std::size_t at = 0;
  for (auto& p : out) {
    if (!*p->plan || (*p->plan)->kind != MessagePlan::Kind::objects) continue;
    for (std::size_t i = 0; i < (*p->plan)->objects.size(); ++i) p->records.push_back(std::move((*found)[at++]));
  }
  co_return out;
}

bool LedgerHook::delivered_before(const ObjectRef& obj, const Prepared* pre, std::size_t index,
                                  const std::string& message_id) {
  if (!pre || index >= pre->records.size() || !pre->records[index]) return false;
  const auto& known = *pre->records[index];
  if (match_record(obj, known) == LedgerMatch::same) {
    metrics_.duplicates_skipped.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  log_("ctsqs: s3://" + obj.bucket + "/" + obj.key + " (message " + message_id + "): delivered before as " +
       (known.version_id.empty() ? "ETag " + known.etag : "version " + known.version_id) + " by collector " +
       known.collector_id + " at " + format_iso8601(known.delivered_at) + "; announced now as " +
       (obj.version_id.empty() || known.version_id.empty() ? "ETag " + obj.etag : "version " + obj.version_id) +
       ": the object was overwritten, delivering it again");
  return false;
}

LedgerRecord LedgerHook::record_of(const ObjectRef& obj, std::uint64_t events, const std::string& collector_id,
                                   std::string sha256) {
  LedgerRecord r;
  r.sha256 = std::move(sha256);
  r.bucket = obj.bucket;
  r.key = obj.key;
  r.version_id = obj.version_id;
  r.etag = std::string(unquoted_etag(obj.etag));
  r.events = events;
  r.collector_id = collector_id;
  return r;
}

asio::awaitable<void> LedgerHook::record(std::vector<LedgerRecord> records, std::string message_id) {
  auto self = shared_from_this();
  if (records.empty()) co_return;
  if (!pending_) pending_ = std::make_shared<RecordBatch>();
  auto batch = pending_;
  for (auto& r : records) batch->records.push_back(std::move(r));
  batch->message_ids.push_back(std::move(message_id));
  if (!recording_) {
    recording_ = true;
    asio::co_spawn(ex_, recorder(), asio::detached);
  }
  while (!batch->done) co_await recorded_.wait();
}

asio::awaitable<void> LedgerHook::recorder() {
  auto self = shared_from_this();
  while (pending_) {
    auto batch = std::move(pending_);
    pending_.reset();
    // Written after the flush of every message in the batch: their time of delivery.
    const auto now = std::chrono::system_clock::now();
    for (auto& r : batch->records) r.delivered_at = now;
    const auto n = batch->records.size();
    Diagnostics d;
    result<void> r = make_error_code(client_errc::io_error);
    try {
      r = co_await ledger_.async_record(batch->records, d);
    } catch (const std::exception& e) {
      d.message = std::string("it threw: ") + e.what();
    }
    if (r) {
      metrics_.ledger_records.fetch_add(n, std::memory_order_relaxed);
    } else {
      metrics_.ledger_errors.fetch_add(1, std::memory_order_relaxed);
      std::string ids;
      for (const auto& id : batch->message_ids) ids += (ids.empty() ? "" : ", ") + id;
      log_("ctsqs: ledger " + ledger_.describe() + ": recording " + std::to_string(n) + " delivered object(s) failed (" +
           r.error().message() + (d.empty() ? "" : " — " + to_string(d)) + "); their message(s) " + ids +
           " are deleted all the same (a redelivery would be delivered again)");
    }
    batch->done = true;
    recorded_.notify_all();
  }
  recording_ = false;
}

}  // namespace ctsqs::detail
