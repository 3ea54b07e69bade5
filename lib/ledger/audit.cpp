// LedgerAudit: the digests verified without fetching log files (TrailVerifier, digests only), one
// ledger lookup per digest, and the heal: a collector over an in-memory queue of the missing files.
#include "ctsqs/ledger/audit.hpp"
#include "../detail/diag_errors.hpp"

#include "ctsqs/aws/client.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/ledger/open_ledger.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

namespace ctsqs {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

error_code invalid(Diagnostics& diag, std::string m) { return detail::invalid_argument(diag, std::move(m)); }

/// The files one digest lists, in the order it lists them.
struct DigestGroup {
  std::string digest;
  std::vector<const integrity::LogExpectation*> files;
};

}  // namespace

std::string to_json_line(const AuditRecord& record) {
  boost::json::object o;
  o["type"] = record.type == AuditRecord::Type::healed ? "healed" : "undelivered";
  o["uri"] = record.uri;
  o["digest"] = record.digest;
  if (!record.reason.empty()) o["reason"] = record.reason;
  return boost::json::serialize(o);
}

struct LedgerAudit::Impl : std::enable_shared_from_this<LedgerAudit::Impl> {
  asio::any_io_executor ex;
  CollectorConfig config;
  AuditOptions opt;
  std::function<void(std::string_view)> log;
  std::unique_ptr<AwsClient> client;  // the ledger's (DynamoDB)
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<integrity::TrailVerifier> verifier;
  std::unique_ptr<AssembledCollector> collector;  // heal
  BackfillQueue* queue = nullptr;                 // owned by the collector
  std::map<std::string, std::string> not_healed;  // uri -> why it was not handed to the heal
  bool stop = false;

  explicit Impl(asio::any_io_executor e) : ex(std::move(e)) {}

  void emit(const AuditRecord& r) {
    if (opt.on_record) opt.on_record(r);
  }

  /// Looks each group's files up (one call per digest); returns the files without a record,
  /// grouped the same way. A failed lookup is an error of the run (its files proven neither way).
  asio::awaitable<std::vector<DigestGroup>> absent(const std::vector<DigestGroup>& groups, AuditResult& res,
                                                   std::set<std::string>* failed_digests = nullptr) {
    std::vector<DigestGroup> out;
    for (const auto& g : groups) {
      if (stop) break;
      std::vector<ObjectRef> refs;
      for (const auto* f : g.files) {
        ObjectRef r;
        r.bucket = f->bucket;
        r.key = f->key;
        refs.push_back(std::move(r));
      }
      Diagnostics d;
      ++res.lookups;
      auto found = co_await ledger->async_lookup(std::move(refs), d);
      if (!found) {
        res.errors.push_back("ledger lookup for the files of " + g.digest + " failed: " +
                             (d.message.empty() ? found.error().message() : d.message));
        log("ctsqs audit: " + res.errors.back());
        if (failed_digests) failed_digests->insert(g.digest);
        continue;
      }
      DigestGroup missing{g.digest, {}};
      for (std::size_t i = 0; i < g.files.size() && i < found->size(); ++i)
        if (!(*found)[i]) missing.files.push_back(g.files[i]);
      if (!missing.files.empty()) out.push_back(std::move(missing));
    }
    co_return out;
  }

  /// Delivers the files through the collector the file describes, over an in-memory queue.
  asio::awaitable<void> heal(const std::vector<DigestGroup>& missing, const std::string& region, AuditResult& res) {
    CollectorConfig cfg = config;
    cfg.queue_required = false;
    cfg.sqs.visibility_timeout = seconds(43200);
    cfg.sqs.visibility_extension_interval = seconds(21600);
    cfg.drain.empty_polls = std::max(1, cfg.drain.empty_polls);
    cfg.heartbeat.enabled = false;
    AssemblyOptions ao = opt.assembly;
    ao.drain = true;
    if (!ao.retry_backoff_min) ao.retry_backoff_min = seconds(1);
    if (!ao.log) ao.log = log;
    BackfillQueue::Options qo;
    qo.max_receives = std::max(1, opt.max_receives);
    qo.extension_timeout = cfg.sqs.visibility_timeout;
    ao.queue_factory = [this, qo](AwsClient&) {
      auto q = std::make_unique<BackfillQueue>(ex, qo, nullptr);
      queue = q.get();
      return q;
    };
    Diagnostics d;
    auto built = build_collector(std::move(cfg), ex, ao, d);
    if (!built) {
      res.errors.push_back("heal: the collector could not be built: " + d.message);
      log("ctsqs audit: " + res.errors.back());
      co_return;
    }
    collector = std::move(*built);
    std::vector<ListedLog> logs;
    std::set<std::string> seen;  // a file two digests list is read once
    const auto now = system_clock::now();
    for (const auto& g : missing)
      for (const auto* f : g.files) {
        if (!seen.insert(f->uri()).second) continue;
        // Claim it first (a conditional write): of several audits, or healing drains, sharing the
        // ledger only one delivers it. A claim that fails is logged and the file delivered all the
        // same (at least once).
        LedgerClaim c;
        c.bucket = f->bucket;
        c.key = f->key;
        c.claimant = "audit:" + (config.id.empty() ? std::string("ctsqs") : config.id);
        c.now = now;
        c.until = now + opt.claim_for;
        Diagnostics cd;
        auto claimed = co_await ledger->async_claim(std::move(c), cd);
        if (!claimed) {
          log("ctsqs audit: claim of " + f->uri() + " failed (delivering it all the same): " +
              (cd.message.empty() ? claimed.error().message() : cd.message));
        } else if (*claimed == ClaimOutcome::held_by_other) {
          not_healed[f->uri()] = "claimed by another collector";
          log("ctsqs audit: " + f->uri() + " is claimed by another collector: not delivered here");
          continue;
        } else if (*claimed == ClaimOutcome::already_delivered) {
          continue;  // recorded since the lookup: the lookup after the heal finds it
        }
        ListedLog l;
        l.object.bucket = f->bucket;
        l.object.key = f->key;
        l.object.region = f->bucket == opt.verify.bucket ? region : std::string();
        logs.push_back(std::move(l));
      }
    log("ctsqs audit: healing " + std::to_string(logs.size()) + " log file(s)");
    res.heal_ran = true;
    co_await queue->async_add(std::move(logs));
    queue->close();
    res.heal_result = co_await collector->async_run();
  }

  asio::awaitable<AuditResult> run() {
    AuditResult res;
    res.verify = co_await verifier->async_run();
    if (res.verify.interrupted || stop) co_return res;
    res.listed = res.verify.listed.size();
    std::vector<DigestGroup> groups;
    std::map<std::string, std::size_t> index;
    for (const auto& f : res.verify.listed) {
      auto [it, fresh] = index.emplace(f.digest, groups.size());
      if (fresh) groups.push_back({f.digest, {}});
      groups[it->second].files.push_back(&f);
    }
    auto missing = co_await absent(groups, res);
    for (const auto& g : missing)
      for (const auto* f : g.files) {
        ++res.undelivered;
        emit({AuditRecord::Type::undelivered, f->uri(), g.digest, {}});
      }
    res.remaining = res.undelivered;
    if (!opt.heal || missing.empty() || stop) co_return res;

    co_await heal(missing, res.verify.bucket_region, res);
    if (!res.heal_ran) co_return res;
    // Given up by the queue after max_receives failed reads: its entries read "s3://bucket/key: why".
    const auto given_up = queue->failed();
    auto was_given_up = [&given_up](const std::string& u) {
      return std::any_of(given_up.begin(), given_up.end(), [&u](const std::string& f) {
        return f.size() > u.size() && f.compare(0, u.size(), u) == 0 && f[u.size()] == ':';
      });
    };
    // A failed lookup is an error of the run (so not clean), its files are not claimed absent.
    std::set<std::string> unknown;
    auto still = co_await absent(missing, res, &unknown);
    std::set<std::string> left;
    for (const auto& g : still)
      for (const auto* f : g.files) left.insert(f->uri() + "\n" + g.digest);
    res.remaining = 0;
    for (const auto& g : missing)
      for (const auto* f : g.files) {
        if (left.count(f->uri() + "\n" + g.digest) || unknown.count(g.digest)) {
          ++res.remaining;
          const auto nh = not_healed.find(f->uri());
          std::string why = unknown.count(g.digest) ? "the ledger lookup after the heal failed"
                            : nh != not_healed.end() ? nh->second
                            : was_given_up(f->uri())
                                ? "read " + std::to_string(std::max(1, opt.max_receives)) +
                                      " times and given up (the reason is logged above)"
                                : "not delivered by the heal";
          log("ctsqs audit: still undelivered after the heal: " + f->uri() + " (" + why + ")");
          emit({AuditRecord::Type::undelivered, f->uri(), g.digest, why});
        } else {
          ++res.healed;
          emit({AuditRecord::Type::healed, f->uri(), g.digest, {}});
        }
      }
    co_return res;
  }
};

LedgerAudit::LedgerAudit(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
LedgerAudit::~LedgerAudit() = default;

result<std::unique_ptr<LedgerAudit>> LedgerAudit::create(CollectorConfig config, asio::any_io_executor executor,
                                                         AuditOptions options, Diagnostics& diag) {
  auto impl = std::make_shared<Impl>(executor);
  impl->log = options.verify.log ? options.verify.log : [](std::string_view l) { std::cerr << l << '\n'; };
  if (!config.ledger || config.ledger->empty())
    return invalid(diag, "audit needs a ledger (--ledger PATH|dynamodb://TABLE, or ctsqs.ledger)");
  // An audit reads a ledger that exists: opening a mistyped path would create an empty one, and
  // every listed file would be reported (and with --heal delivered) again.
  auto where = parse_ledger_location(*config.ledger, "--ledger", diag);
  if (!where) return where.error();
  if (where->kind == LedgerLocation::Kind::sqlite) {
    std::error_code fe;
    if (!std::filesystem::is_regular_file(where->path, fe))
      return invalid(diag, "--ledger " + where->path + ": no such ledger file (an audit does not create one)");
  }
  options.verify.digests_only = true;
  options.verify.log = impl->log;
  config.queue_required = false;
  auto v = integrity::TrailVerifier::create(config, executor, options.verify, diag);
  if (!v) return v.error();
  impl->verifier = std::move(*v);
  auto client = make_aws_client(config, executor, impl->log, diag);
  if (!client) return invalid(diag, diag.message);
  impl->client = std::move(*client);
  auto l = open_ledger(*config.ledger, config.ledger_retention, impl->client.get(), "--ledger", diag);
  if (!l) return l.error();
  impl->ledger = std::move(*l);
  impl->config = std::move(config);
  impl->opt = std::move(options);
  return std::make_unique<LedgerAudit>(std::move(impl));
}

asio::awaitable<AuditResult> LedgerAudit::async_run() {
  std::shared_ptr<Impl> impl = impl_;
  AuditResult r = co_await impl->run();
  co_return r;
}

asio::any_io_executor LedgerAudit::get_executor() const { return impl_->ex; }

void LedgerAudit::request_stop() {
  auto impl = impl_;
  asio::post(impl->ex, [impl] {
    impl->stop = true;
    impl->verifier->request_stop();
    if (impl->queue) impl->queue->abandon();
    if (impl->collector) impl->collector->request_stop();
  });
}

const integrity::VerifyOptions& LedgerAudit::options() const noexcept { return impl_->verifier->options(); }

std::string LedgerAudit::ledger_description() const { return impl_->ledger->describe(); }

}  // namespace ctsqs
