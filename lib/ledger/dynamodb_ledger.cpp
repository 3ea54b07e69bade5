// DynamoDbLedger over the AwsClient (BatchGetItem, BatchWriteItem, conditional UpdateItem with
// retries of unprocessed parts) and the table set-up of `ctsqs ledger init`.
#include "ctsqs/ledger/dynamodb_ledger.hpp"

#include "ctsqs/aws/client.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/ledger/dynamodb_protocol.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <set>

namespace ctsqs {

namespace asio = boost::asio;
using sys_clock = std::chrono::system_clock;

namespace {
/// Unprocessed keys/items are sent again this many times (with a doubling pause from 50 ms).
constexpr int kUnprocessedAttempts = 8;
}  // namespace

struct DynamoDbLedger::Impl {
  AwsClient& client;
  DynamoDbLedgerOptions options;
  std::atomic<std::uint64_t> gets{0}, writes{0}, updates{0}, items_read{0}, items_written{0};

  Impl(AwsClient& c, DynamoDbLedgerOptions o) : client(c), options(std::move(o)) {}

  sys_clock::time_point now() const { return options.clock ? options.clock() : sys_clock::now(); }
  std::int64_t expires_at_s() const {
    return std::chrono::duration_cast<std::chrono::seconds>((now() + options.retention).time_since_epoch()).count();
  }

  asio::awaitable<void> pause(int attempt) {
    asio::steady_timer t(client.get_executor(), std::chrono::milliseconds(50 << std::min(attempt, 6)));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  /// Signs and sends one request; the 2xx response.
  asio::awaitable<result<HttpResponse>> call(std::string operation, result<HttpRequest> req, Diagnostics& diag) {
    if (!req) co_return req.error();
    auto ep = client.endpoint(AwsService::dynamodb, {}, diag);
    if (!ep) co_return ep.error();
    CallOptions opts;
    opts.operation = operation;
    if (!ep->signing_region.empty()) opts.region = ep->signing_region;
    co_return co_await client.async_call("dynamodb", std::move(*req), std::move(opts), diag);
  }

  result<Endpoint> endpoint(Diagnostics& diag) const { return client.endpoint(AwsService::dynamodb, {}, diag); }
};

DynamoDbLedger::DynamoDbLedger(AwsClient& client, DynamoDbLedgerOptions options)
    : impl_(std::make_shared<Impl>(client, std::move(options))) {}
DynamoDbLedger::~DynamoDbLedger() = default;

std::string DynamoDbLedger::describe() const { return "dynamodb://" + impl_->options.table; }

DynamoDbLedgerStats DynamoDbLedger::stats() const noexcept {
  return {impl_->gets.load(), impl_->writes.load(), impl_->updates.load(), impl_->items_read.load(),
          impl_->items_written.load()};
}

asio::awaitable<result<std::vector<std::optional<LedgerRecord>>>> DynamoDbLedger::async_lookup(
    std::vector<ObjectRef> objects, Diagnostics& diag) {
  auto impl = impl_;
  const std::string& table = impl->options.table;
  auto ep = impl->endpoint(diag);
  if (!ep) co_return ep.error();
  std::vector<std::string> pks;
  std::set<std::string> seen;
  for (const auto& o : objects)
    if (auto pk = dynamodb::item_key(o.bucket, o.key); seen.insert(pk).second) pks.push_back(std::move(pk));
  std::map<std::string, LedgerRecord> found;
  for (std::size_t base = 0; base < pks.size(); base += dynamodb::max_get_keys) {
    std::vector<std::string> todo(pks.begin() + static_cast<std::ptrdiff_t>(base),
                                  pks.begin() + static_cast<std::ptrdiff_t>(std::min(pks.size(), base + dynamodb::max_get_keys)));
    for (int attempt = 0; !todo.empty(); ++attempt) {
      if (attempt >= kUnprocessedAttempts) {
        diag.clear();
        diag.message = "dynamodb BatchGetItem on " + table + ": " + std::to_string(todo.size()) +
                       " key(s) still unprocessed after " + std::to_string(kUnprocessedAttempts) + " attempts";
        co_return make_error_code(aws_errc::throttling);
      }
      if (attempt > 0) co_await impl->pause(attempt);
      impl->gets.fetch_add(1, std::memory_order_relaxed);
      impl->items_read.fetch_add(todo.size(), std::memory_order_relaxed);
      auto res = co_await impl->call("BatchGetItem", dynamodb::make_batch_get_item_request(*ep, table, todo, diag), diag);
      if (!res) co_return res.error();
      auto parsed = dynamodb::parse_batch_get_item_response(*res, table, diag);
      if (!parsed) co_return parsed.error();
      for (auto& r : parsed->records) {
        auto pk = dynamodb::item_key(r.bucket, r.key);
        found[pk] = std::move(r);
      }
      todo = std::move(parsed->unprocessed);
    }
  }
  std::vector<std::optional<LedgerRecord>> out;
  out.reserve(objects.size());
  for (const auto& o : objects) {
    auto it = found.find(dynamodb::item_key(o.bucket, o.key));
    if (it != found.end())
      out.emplace_back(it->second);
    else
      out.emplace_back(std::nullopt);
  }
  co_return out;
}

asio::awaitable<result<void>> DynamoDbLedger::async_record(std::vector<LedgerRecord> records, Diagnostics& diag) {
  auto impl = impl_;
  const std::string& table = impl->options.table;
  auto ep = impl->endpoint(diag);
  if (!ep) co_return ep.error();
  // One item per object: the last record of an object wins within a call.
  std::map<std::string, LedgerRecord> by_pk;
  for (auto& r : records) by_pk[dynamodb::item_key(r.bucket, r.key)] = std::move(r);
  std::vector<LedgerRecord> all;
  for (auto& [pk, r] : by_pk) all.push_back(std::move(r));
  const auto expires = impl->expires_at_s();
  for (std::size_t base = 0; base < all.size(); base += dynamodb::max_write_items) {
    std::vector<LedgerRecord> todo(all.begin() + static_cast<std::ptrdiff_t>(base),
                                   all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), base + dynamodb::max_write_items)));
    for (int attempt = 0; !todo.empty(); ++attempt) {
      if (attempt >= kUnprocessedAttempts) {
        diag.clear();
        diag.message = "dynamodb BatchWriteItem on " + table + ": " + std::to_string(todo.size()) +
                       " item(s) still unprocessed after " + std::to_string(kUnprocessedAttempts) + " attempts";
        co_return make_error_code(aws_errc::throttling);
      }
      if (attempt > 0) co_await impl->pause(attempt);
      impl->writes.fetch_add(1, std::memory_order_relaxed);
      impl->items_written.fetch_add(todo.size(), std::memory_order_relaxed);
      auto res = co_await impl->call("BatchWriteItem",
                                     dynamodb::make_batch_write_item_request(*ep, table, todo, expires, diag), diag);
      if (!res) co_return res.error();
      auto unprocessed = dynamodb::parse_batch_write_item_response(*res, table, diag);
      if (!unprocessed) co_return unprocessed.error();
      std::set<std::string> again(unprocessed->begin(), unprocessed->end());
      std::erase_if(todo, [&](const LedgerRecord& r) { return !again.count(dynamodb::item_key(r.bucket, r.key)); });
    }
  }
  co_return result<void>{};
}

asio::awaitable<result<ClaimOutcome>> DynamoDbLedger::async_claim(LedgerClaim claim, Diagnostics& diag) {
  auto impl = impl_;
  auto ep = impl->endpoint(diag);
  if (!ep) co_return ep.error();
  impl->updates.fetch_add(1, std::memory_order_relaxed);
  impl->items_written.fetch_add(1, std::memory_order_relaxed);
  auto res = co_await impl->call(
      "UpdateItem", dynamodb::make_claim_request(*ep, impl->options.table, claim, impl->expires_at_s(), diag), diag);
  if (res) co_return dynamodb::parse_claim_response(*res, diag);
  if (!dynamodb::is_conditional_check_failed(diag)) co_return res.error();
  // Refused: delivered already, or another collector holds it. One read tells which.
  std::vector<ObjectRef> one{ObjectRef{claim.bucket, claim.key, {}, 0, {}, {}}};
  Diagnostics d2;
  auto found = co_await async_lookup(std::move(one), d2);
  if (!found) {
    diag = d2;
    co_return found.error();
  }
  diag.clear();
  co_return found->front() ? ClaimOutcome::already_delivered : ClaimOutcome::held_by_other;
}

// ------------------------------------------------------------------ ledger init
namespace {

/// Records an AccessDenied as the missing IAM action; true when `ec` was one.
bool note_denied(const error_code& ec, std::string_view action, LedgerInitReport& report) {
  if (ec != aws_errc::access_denied) return false;
  report.missing_permissions.push_back("dynamodb:" + std::string(action));
  report.steps.push_back(std::string(action) + ": AccessDenied (missing permission dynamodb:" + std::string(action) + ")");
  return true;
}

std::string detail_of(const error_code& ec, const Diagnostics& d) {
  return d.empty() ? ec.message() : to_string(d);
}

}  // namespace

asio::awaitable<result<LedgerInitReport>> async_init_dynamodb_ledger(AwsClient& client, DynamoDbLedgerOptions options,
                                                                     Diagnostics& diag) {
  LedgerInitReport report;
  const std::string table = options.table;
  auto ep = client.endpoint(AwsService::dynamodb, {}, diag);
  if (!ep) co_return ep.error();
  auto ledger = std::make_shared<DynamoDbLedger::Impl>(client, options);
  auto fail = [&](error_code ec, const Diagnostics& d, std::string what) -> error_code {
    diag = d;
    diag.message = what + ": " + detail_of(ec, d);
    return ec;
  };

  // 1. Does the table exist?
  Diagnostics d;
  bool exists = false, describe_denied = false;
  dynamodb::TableDescription desc;
  auto described = co_await ledger->call("DescribeTable", dynamodb::make_describe_table_request(*ep, table, d), d);
  if (described) {
    auto p = dynamodb::parse_table_description(*described, d);
    if (!p) co_return fail(p.error(), d, "DescribeTable " + table);
    desc = *p;
    exists = true;
    report.steps.push_back("DescribeTable: " + table + " exists (" + desc.status + ")");
  } else if (d.aws_code == "ResourceNotFoundException") {
    report.steps.push_back("DescribeTable: " + table + " does not exist");
  } else if (note_denied(described.error(), "DescribeTable", report)) {
    describe_denied = true;
  } else {
    co_return fail(described.error(), d, "DescribeTable " + table);
  }

  // 2. Create it when missing (also tried when DescribeTable was denied: CreateTable says whether it exists).
  if (!exists) {
    d.clear();
    auto created = co_await ledger->call("CreateTable", dynamodb::make_create_table_request(*ep, table, d), d);
    if (created) {
      auto p = dynamodb::parse_table_description(*created, d);
      if (!p) co_return fail(p.error(), d, "CreateTable " + table);
      desc = *p;
      exists = true;
      report.created = true;
      report.steps.push_back("CreateTable: " + table + " created (hash key pk, on-demand billing)");
    } else if (d.aws_code == "ResourceInUseException") {
      exists = true;
      report.steps.push_back("CreateTable: " + table + " exists already");
    } else if (!note_denied(created.error(), "CreateTable", report)) {
      co_return fail(created.error(), d, "CreateTable " + table);
    }
  }
  if (exists && !desc.hash_key.empty() && (desc.hash_key != "pk" || (!desc.hash_key_type.empty() && desc.hash_key_type != "S"))) {
    diag.clear();
    diag.message = "table " + table + " has hash key " + desc.hash_key + " (" + desc.hash_key_type +
                   "); a ctsqs ledger table needs hash key pk of type S (give another table name)";
    co_return make_error_code(client_errc::invalid_argument);
  }
  // 3. Wait until ACTIVE (a new table takes seconds).
  for (int i = 0; exists && !describe_denied && desc.status != "ACTIVE" && i < 120; ++i) {
    asio::steady_timer t(client.get_executor(), std::chrono::milliseconds(i == 0 ? 200 : 1000));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    d.clear();
    auto again = co_await ledger->call("DescribeTable", dynamodb::make_describe_table_request(*ep, table, d), d);
    if (!again) co_return fail(again.error(), d, "DescribeTable " + table + " (waiting for ACTIVE)");
    auto p = dynamodb::parse_table_description(*again, d);
    if (!p) co_return fail(p.error(), d, "DescribeTable " + table);
    desc = *p;
  }
  report.table_status = desc.status;
  report.billing_mode = desc.billing_mode;
  if (exists && !describe_denied && desc.status != "ACTIVE") {
    diag.clear();
    diag.message = "table " + table + " is still " + desc.status + " after 2 minutes";
    co_return make_error_code(client_errc::timeout);
  }

  // 4. TTL on expires_at.
  if (exists) {
    d.clear();
    auto ttl = co_await ledger->call("DescribeTimeToLive", dynamodb::make_describe_time_to_live_request(*ep, table, d), d);
    bool enabled = false;
    if (ttl) {
      auto p = dynamodb::parse_describe_time_to_live_response(*ttl, d);
      if (!p) co_return fail(p.error(), d, "DescribeTimeToLive " + table);
      enabled = (p->status == "ENABLED" || p->status == "ENABLING") && p->attribute == dynamodb::ttl_attribute;
      if (!enabled && (p->status == "ENABLED" || p->status == "ENABLING")) {
        diag.clear();
        diag.message = "table " + table + " has TTL on attribute " + p->attribute + ", not " +
                       std::string(dynamodb::ttl_attribute) + ": records would never expire (give another table name)";
        co_return make_error_code(client_errc::invalid_argument);
      }
      report.steps.push_back("DescribeTimeToLive: " + p->status + (p->attribute.empty() ? "" : " on " + p->attribute));
    } else if (!note_denied(ttl.error(), "DescribeTimeToLive", report)) {
      co_return fail(ttl.error(), d, "DescribeTimeToLive " + table);
    }
    if (!enabled) {
      d.clear();
      auto up = co_await ledger->call("UpdateTimeToLive", dynamodb::make_update_time_to_live_request(*ep, table, d), d);
      if (up) {
        report.ttl_enabled = true;
        report.steps.push_back("UpdateTimeToLive: TTL enabled on " + std::string(dynamodb::ttl_attribute) +
                               " (retention " + std::to_string(options.retention.count() / 86400) + " days)");
      } else if (!note_denied(up.error(), "UpdateTimeToLive", report)) {
        co_return fail(up.error(), d, "UpdateTimeToLive " + table);
      }
    }

    // 5. The collector's own calls.
    DynamoDbLedger probe_ledger(client, options);
    const std::string probe_key = std::string("ctsqs-ledger-init-probe");
    d.clear();
    ObjectRef probe_object;
    probe_object.bucket = std::string("ctsqs-probe");
    probe_object.key = probe_key;
    std::vector<ObjectRef> probe;
    probe.push_back(probe_object);
    auto got = co_await probe_ledger.async_lookup(probe, d);
    if (got)
      report.steps.push_back("BatchGetItem: allowed");
    else if (!note_denied(got.error(), "BatchGetItem", report))
      co_return fail(got.error(), d, "BatchGetItem " + table);
    // A record that expires at once (TTL removes it): proves the collector may write.
    DynamoDbLedgerOptions short_lived = options;
    short_lived.retention = std::chrono::seconds(0);
    DynamoDbLedger writer(client, short_lived);
    LedgerRecord rec;
    rec.bucket = std::string("ctsqs-probe");
    rec.key = probe_key;
    rec.collector_id = std::string("ctsqs ledger init");
    rec.delivered_at = options.clock ? options.clock() : sys_clock::now();
    d.clear();
    std::vector<LedgerRecord> recs;
    recs.push_back(rec);
    auto wrote = co_await writer.async_record(std::move(recs), d);
    if (wrote)
      report.steps.push_back("BatchWriteItem: allowed");
    else if (!note_denied(wrote.error(), "BatchWriteItem", report))
      co_return fail(wrote.error(), d, "BatchWriteItem " + table);
    // A claim of the probe record: refused by its condition (it is delivered), or denied.
    LedgerClaim c;
    c.bucket = std::string("ctsqs-probe");
    c.key = probe_key;
    c.claimant = std::string("ctsqs ledger init");
    c.now = rec.delivered_at;
    c.until = c.now + std::chrono::seconds(1);
    d.clear();
    auto claimed = co_await writer.async_claim(c, d);
    if (claimed)
      report.steps.push_back("UpdateItem: allowed");
    else if (!note_denied(claimed.error(), "UpdateItem", report))
      co_return fail(claimed.error(), d, "UpdateItem " + table);
  }

  co_return report;
}

}  // namespace ctsqs
