// open_ledger: the ledger a location names ("PATH" → SqliteLedger, "dynamodb://TABLE" →
// DynamoDbLedger on an AwsClient), as the collector file and `--ledger` give it.
#pragma once

#include "ctsqs/detail/completion.hpp"
#include "ctsqs/ledger/dynamodb_ledger.hpp"
#include "ctsqs/ledger/ledger.hpp"

#include <boost/asio/any_io_executor.hpp>
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

namespace detail {
void launch_init_ledger(boost::asio::any_io_executor executor, std::string location, std::chrono::seconds retention,
                        AwsClient* client, Diagnostics& diag, completion_handler<LedgerInitReport> handler);
}

/// async_init_ledger through any completion token, on `executor` (the client's, when there is
/// one): `void(error_code, LedgerInitReport)`; client_errc::invalid_argument for a location that
/// names no ledger; `diag` (which must outlive the operation) gets the detail. A terminal
/// cancellation through the handler's slot ends the DynamoDB request in progress
/// (`asio::error::operation_aborted`; the table may be left being created); partial and total
/// alone are ignored.
template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(error_code, LedgerInitReport)) CompletionToken>
auto async_init_ledger(boost::asio::any_io_executor executor, std::string location, std::chrono::seconds retention,
                       AwsClient* client, Diagnostics& diag, CompletionToken&& token) {
  return detail::initiate_erased<LedgerInitReport>(
      std::forward<CompletionToken>(token),
      [executor, location = std::move(location), retention, client,
       d = &diag](completion_handler<LedgerInitReport> handler) mutable {
        detail::launch_init_ledger(executor, std::move(location), retention, client, *d, std::move(handler));
      });
}

}  // namespace ctsqs
