// open_ledger: a ledger location to its back end.
#include "ctsqs/ledger/open_ledger.hpp"

#include "ctsqs/ledger/dynamodb_ledger.hpp"
#include "ctsqs/ledger/sqlite_ledger.hpp"

namespace ctsqs {

result<std::unique_ptr<Ledger>> open_ledger(std::string_view location, std::chrono::seconds retention,
                                            AwsClient* client, std::string_view field, Diagnostics& diag) {
  auto loc = parse_ledger_location(location, field, diag);
  if (!loc) return loc.error();
  if (loc->kind == LedgerLocation::Kind::dynamodb) {
    if (!client) {
      diag.clear();
      diag.message = std::string(field) + ": a DynamoDB ledger needs an AWS client";
      return make_error_code(client_errc::invalid_argument);
    }
    DynamoDbLedgerOptions o;
    o.table = loc->table;
    o.retention = retention;
    return std::unique_ptr<Ledger>(std::make_unique<DynamoDbLedger>(*client, std::move(o)));
  }
  SqliteLedgerOptions o;
  o.path = loc->path;
  o.retention = retention;
  auto l = SqliteLedger::open(std::move(o), diag);
  if (!l) {
    diag.message = std::string(field) + ": " + diag.message;
    return l.error();
  }
  return std::unique_ptr<Ledger>(std::move(*l));
}

boost::asio::awaitable<result<LedgerInitReport>> async_init_ledger(std::string location, std::chrono::seconds retention,
                                                                   AwsClient* client, Diagnostics& diag) {
  auto loc = parse_ledger_location(location, "--ledger", diag);
  if (!loc) co_return loc.error();
  if (loc->kind == LedgerLocation::Kind::dynamodb) {
    if (!client) {
      diag.clear();
      diag.message = "--ledger: a DynamoDB ledger needs an AWS client";
      co_return make_error_code(client_errc::invalid_argument);
    }
    DynamoDbLedgerOptions o;
    o.table = loc->table;
    o.retention = retention;
    co_return co_await async_init_dynamodb_ledger(*client, std::move(o), diag);
  }
  SqliteLedgerOptions o;
  o.path = loc->path;
  o.retention = retention;
  auto l = SqliteLedger::open(std::move(o), diag);
  if (!l) co_return l.error();
  auto n = (*l)->count(diag);
  if (!n) co_return n.error();
  LedgerInitReport report;
  report.table_status = "ready";
  report.steps.push_back("SQLite file " + loc->path + " ready: schema " + std::to_string(SqliteLedger::schema_version) +
                         ", WAL, synchronous=FULL, " + std::to_string(*n) + " record(s), kept " +
                         std::to_string(retention.count() / 86400) + " days");
  co_return report;
}

}  // namespace ctsqs
