// open_ledger: the ledger a location names ("PATH" → SqliteLedger, "dynamodb://TABLE" →
// DynamoDbLedger on an AwsClient), as the collector file and `--ledger` give it.
#pragma once

#include "ctsqs/ledger/dynamodb_ledger.hpp"
#include "ctsqs/ledger/ledger.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string_view>

namespace ctsqs {

class AwsClient;

/// Opens the ledger at `location` (parse_ledger_location; `field` names the setting in
/// errors): a SQLite file, or a DynamoDB table reached through `client` (which must then be
/// non-null and outlive the ledger). Records are kept `retention`.
result<std::unique_ptr<Ledger>> open_ledger(std::string_view location, std::chrono::seconds retention,
                                            AwsClient* client, std::string_view field, Diagnostics& diag);

/// `ctsqs ledger init`: makes the ledger at `location` ready. A SQLite file is created with its
/// schema (or checked); a DynamoDB table as async_init_dynamodb_ledger does (then `client` must
/// be non-null). The report says what was done; missing permissions are in it, not an error.
boost::asio::awaitable<result<LedgerInitReport>> async_init_ledger(std::string location, std::chrono::seconds retention,
                                                                   AwsClient* client, Diagnostics& diag);

}  // namespace ctsqs
