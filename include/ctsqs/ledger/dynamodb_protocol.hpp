// The DynamoDB calls of the ledger over AWS JSON 1.0 (`X-Amz-Target: DynamoDB_20120810.<Op>`),
// sans-I/O: make_<op>_request builds an HttpRequest, parse_<op>_response reads an HttpResponse.
//
// Item layout (Amazon DynamoDB Developer Guide, "Working with items"; attribute values in the
// typed JSON form {"S": ...}/{"N": ...}): hash key `pk` = "<bucket>/<key>" (bucket names hold no
// '/'), `bucket`, `key`, `version_id`, `etag`, `sha256` (empty ones left out), `events`,
// `delivered_at` (ms since the epoch; absent on a claim), `collector_id`, `claim_owner`,
// `claim_until` (ms), and `expires_at` (seconds since the epoch: the TTL attribute).
#pragma once

#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"
#include "ctsqs/ledger/ledger.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctsqs::dynamodb {

/// BatchGetItem takes at most 100 keys, BatchWriteItem at most 25 requests.
inline constexpr std::size_t max_get_keys = 100;
inline constexpr std::size_t max_write_items = 25;

/// The TTL attribute's name.
inline constexpr std::string_view ttl_attribute = "expires_at";

/// The hash key of an object: "<bucket>/<key>".
std::string item_key(std::string_view bucket, std::string_view key);

/// BatchGetItem of `pks` (1..100, distinct) with ConsistentRead, so a record written by another
/// collector a moment ago is seen.
result<HttpRequest> make_batch_get_item_request(const Endpoint& endpoint, std::string_view table,
                                                const std::vector<std::string>& pks, Diagnostics& diag);

/// The answer of BatchGetItem.
struct BatchGetResult {
  std::vector<LedgerRecord> records;        ///< delivered records found (claims are left out)
  std::vector<std::string> unprocessed;     ///< pks DynamoDB did not read this time (ask again)
};
result<BatchGetResult> parse_batch_get_item_response(const HttpResponse& response, std::string_view table,
                                                     Diagnostics& diag);

/// BatchWriteItem putting `records` (1..25, distinct objects), each expiring at `expires_at_s`.
result<HttpRequest> make_batch_write_item_request(const Endpoint& endpoint, std::string_view table,
                                                  const std::vector<LedgerRecord>& records,
                                                  std::int64_t expires_at_s, Diagnostics& diag);
/// The pks of the puts DynamoDB did not apply this time (UnprocessedItems; write them again).
result<std::vector<std::string>> parse_batch_write_item_response(const HttpResponse& response,
                                                                 std::string_view table, Diagnostics& diag);

/// UpdateItem claiming an object: succeeds only when it has no delivered record and no claim of
/// another claimant that lasts beyond `claim.now` (ConditionExpression).
result<HttpRequest> make_claim_request(const Endpoint& endpoint, std::string_view table, const LedgerClaim& claim,
                                       std::int64_t expires_at_s, Diagnostics& diag);
/// `claimed` on 2xx. A refused condition is the error ConditionalCheckFailedException (aws_errc
/// unknown, `diag.aws_code` names it): the caller looks the object up to tell a delivered one
/// from one another collector holds (is_conditional_check_failed).
result<ClaimOutcome> parse_claim_response(const HttpResponse& response, Diagnostics& diag);

/// Whether a failed call's diagnostics name ConditionalCheckFailedException.
bool is_conditional_check_failed(const Diagnostics& diag) noexcept;

/// CreateTable with hash key `pk` (S) and on-demand billing (PAY_PER_REQUEST).
result<HttpRequest> make_create_table_request(const Endpoint& endpoint, std::string_view table, Diagnostics& diag);
/// DescribeTable.
result<HttpRequest> make_describe_table_request(const Endpoint& endpoint, std::string_view table, Diagnostics& diag);

/// What DescribeTable / CreateTable said about the table.
struct TableDescription {
  std::string status;        ///< "CREATING", "ACTIVE", ...
  std::string billing_mode;  ///< "PAY_PER_REQUEST", "PROVISIONED" ("" when not said)
  std::string hash_key;      ///< name of the HASH key attribute
  std::string hash_key_type; ///< "S", "N", "B"
};
/// Parses the TableDescription (DescribeTable: under "Table"; CreateTable: "TableDescription").
result<TableDescription> parse_table_description(const HttpResponse& response, Diagnostics& diag);

/// UpdateTimeToLive enabling TTL on `ttl_attribute`.
result<HttpRequest> make_update_time_to_live_request(const Endpoint& endpoint, std::string_view table,
                                                     Diagnostics& diag);
/// DescribeTimeToLive.
result<HttpRequest> make_describe_time_to_live_request(const Endpoint& endpoint, std::string_view table,
                                                       Diagnostics& diag);
/// TimeToLiveStatus ("ENABLED", "ENABLING", "DISABLED", ...) and AttributeName.
struct TimeToLive {
  std::string status;
  std::string attribute;
};
result<TimeToLive> parse_describe_time_to_live_response(const HttpResponse& response, Diagnostics& diag);

/// A 2xx answer whose body is not a JSON object (an empty body counts as {}): ok; otherwise the
/// error of a non-2xx answer (aws_errc, diag with the AWS code, message and request id).
result<void> check_response(const HttpResponse& response, std::string_view operation, Diagnostics& diag);

}  // namespace ctsqs::dynamodb
