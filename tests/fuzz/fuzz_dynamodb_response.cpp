// Fuzz target: the ledger's DynamoDB JSON 1.0 response parsers (BatchGetItem, BatchWriteItem,
// UpdateItem, DescribeTable/CreateTable, DescribeTimeToLive) and their error path.
#include "ctsqs/aws/error.hpp"
#include "ctsqs/ledger/dynamodb_protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  // First byte picks the status so both the success and the error paths are explored.
  int status = 200;
  if (size > 0) {
    static constexpr int statuses[] = {200, 400, 403, 500, 503, 200, 200, 429};
    status = statuses[data[0] % 8];
    ++data;
    --size;
  }
  HttpResponse res;
  res.status = status;
  res.body.assign(reinterpret_cast<const char*>(data), size);
  Diagnostics diag;
  auto check = [&](const error_code& ec) {
    // Parsers report AWS-side errors only (malformed answers included).
    if (ec.category() != aws_category()) __builtin_trap();
  };
  if (auto r = dynamodb::parse_batch_get_item_response(res, "ledger", diag)) {
    for (const auto& rec : r->records)
      if (rec.bucket.empty() || rec.key.empty()) __builtin_trap();  // a record always names its object
  } else {
    check(r.error());
  }
  if (auto r = dynamodb::parse_batch_write_item_response(res, "ledger", diag); !r) check(r.error());
  if (auto r = dynamodb::parse_claim_response(res, diag); !r) check(r.error());
  if (auto r = dynamodb::parse_table_description(res, diag); !r) check(r.error());
  if (auto r = dynamodb::parse_describe_time_to_live_response(res, diag); !r) check(r.error());
  if (status != 200) {
    auto r = dynamodb::check_response(res, "X", diag);
    if (r || diag.http_status != status) __builtin_trap();
  }
  return 0;
}
