// Fuzz target: generic AWS error parsing (XML query/REST-XML, JSON awsJson, headers) and its
// classification, over arbitrary bodies, statuses and error headers.
#include "ctsqs/aws/error_response.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  HttpResponse res;
  res.status = 400;
  if (size > 0) {
    static constexpr int statuses[] = {301, 307, 400, 403, 404, 429, 500, 502, 503, 504};
    res.status = statuses[data[0] % 10];
    if (data[0] & 0x10) res.headers.push_back({"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"});
    if (data[0] & 0x20) res.headers.push_back({"x-amzn-ErrorType", "ThrottlingException:http://x/"});
    if (data[0] & 0x40) res.headers.push_back({"x-amzn-RequestId", "rid"});
    ++data;
    --size;
  }
  res.body.assign(reinterpret_cast<const char*>(data), size);
  AwsError e = parse_aws_error(res);
  if (e.code.empty()) __builtin_trap();  // a code is always derived
  if (e.message.size() > 1024) __builtin_trap();
  Diagnostics diag;
  error_code ec = aws_error_to_code(e, "fuzz", diag);
  if (!ec || ec.category() != aws_category()) __builtin_trap();
  if (diag.http_status != res.status || diag.aws_code != e.code) __builtin_trap();
  return 0;
}
