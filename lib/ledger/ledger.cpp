// The ledger's pure parts (record matching, location parsing) and the in-memory ledger.
#include "ctsqs/ledger/ledger.hpp"

#include <map>
#include <mutex>
#include <utility>

namespace ctsqs {

std::string_view unquoted_etag(std::string_view etag) noexcept {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return etag.substr(1, etag.size() - 2);
  return etag;
}

LedgerMatch match_record(const ObjectRef& announced, const std::optional<LedgerRecord>& record) noexcept {
  if (!record) return LedgerMatch::absent;
  if (!announced.version_id.empty() && !record->version_id.empty())
    return announced.version_id == record->version_id ? LedgerMatch::same : LedgerMatch::changed;
  const auto a = unquoted_etag(announced.etag), r = unquoted_etag(record->etag);
  if (!a.empty() && !r.empty()) return a == r ? LedgerMatch::same : LedgerMatch::changed;
  return LedgerMatch::same;
}

result<LedgerLocation> parse_ledger_location(std::string_view text, std::string_view field, Diagnostics& diag) {
  auto fail = [&](std::string why) -> result<LedgerLocation> {
    diag.clear();
    diag.message = std::string(field) + ": " + why;
    return make_error_code(client_errc::invalid_argument);
  };
  LedgerLocation loc;
  constexpr std::string_view dynamo = "dynamodb://";
  if (text.substr(0, dynamo.size()) == dynamo) {
    std::string_view table = text.substr(dynamo.size());
    if (table.size() < 3 || table.size() > 255)
      return fail("DynamoDB table name '" + std::string(table) + "' must be 3 to 255 characters long");
    for (char c : table)
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
            c == '-'))
        return fail("DynamoDB table name '" + std::string(table) + "' may hold only A-Z a-z 0-9 _ . -");
    loc.kind = LedgerLocation::Kind::dynamodb;
    loc.table = std::string(table);
    return loc;
  }
  if (text.find("://") != std::string_view::npos)
    return fail(std::string(1, '\'').append(text).append("' is neither a file path nor dynamodb://TABLE"));
  if (text.substr(0, 7) == "sqlite:") text.remove_prefix(7);
  if (text.empty()) return fail("empty: give a file path or dynamodb://TABLE");
  if (text.find('\0') != std::string_view::npos) return fail("the path holds a NUL byte");
  loc.path = std::string(text);
  return loc;
}

namespace {

class MemoryLedger final : public Ledger {
 public:
  std::string describe() const override { return "memory"; }

  boost::asio::awaitable<result<std::vector<std::optional<LedgerRecord>>>> async_lookup(
      std::vector<ObjectRef> objects, Diagnostics&) override {
    std::vector<std::optional<LedgerRecord>> out;
    out.reserve(objects.size());
    {
      std::lock_guard lk(mu_);
      for (const auto& o : objects) {
        auto it = rows_.find({o.bucket, o.key});
        if (it != rows_.end() && it->second.record)
          out.emplace_back(*it->second.record);
        else
          out.emplace_back(std::nullopt);
      }
    }
    co_return out;
  }

  boost::asio::awaitable<result<void>> async_record(std::vector<LedgerRecord> records, Diagnostics&) override {
    {
      std::lock_guard lk(mu_);
      for (auto& r : records) {
        auto& row = rows_[{r.bucket, r.key}];
        row.record = std::move(r);
        row.claimant.clear();
      }
    }
    co_return result<void>{};
  }

  boost::asio::awaitable<result<ClaimOutcome>> async_claim(LedgerClaim claim, Diagnostics&) override {
    ClaimOutcome out = ClaimOutcome::claimed;
    {
      std::lock_guard lk(mu_);
      auto& row = rows_[{claim.bucket, claim.key}];
      if (row.record)
        out = ClaimOutcome::already_delivered;
      else if (!row.claimant.empty() && row.claimant != claim.claimant && row.claim_until > claim.now)
        out = ClaimOutcome::held_by_other;
      else {
        row.claimant = claim.claimant;
        row.claim_until = claim.until;
      }
    }
    co_return out;
  }

 private:
  struct Row {
    std::optional<LedgerRecord> record;
    std::string claimant;
    std::chrono::system_clock::time_point claim_until{};
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Row> rows_;
};

}  // namespace

std::unique_ptr<Ledger> make_memory_ledger() { return std::make_unique<MemoryLedger>(); }

}  // namespace ctsqs
