// Fuzz target: S3 XML error classification (parse_error, the XML reader's text-only elements) over arbitrary bodies and statuses.
#include "ctsqs/aws/s3/protocol.hpp"

#include "ctsqs/collector/collector.hpp"
#include "../../lib/detail/xml_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  int status = 403;
  if (size > 0) {
    static constexpr int statuses[] = {301, 307, 400, 403, 404, 412, 416, 500, 503, 200};
    status = statuses[data[0] % 10];
    ++data;
    --size;
  }
  HttpResponse res;
  res.status = status;
  res.body.assign(reinterpret_cast<const char*>(data), size);
  if (size > 1 && data[0] == '<') res.headers.push_back({"x-amz-bucket-region", "eu-west-1"});
  Diagnostics diag;
  auto e = s3::parse_error(res, "bucket", "key", diag);
  if (!e.code || e.code.category() != aws_category()) __builtin_trap();
  if (diag.message.find("s3://bucket/key") != 0) __builtin_trap();
  (void)is_message_failure(e.code);
  (void)s3::should_retry_in_region(e, "us-east-1");
  for (const char* name : {"Code", "Message", "Region", "Endpoint"}) (void)detail::xml_text_only_element(res.body, name);
  return 0;
}
