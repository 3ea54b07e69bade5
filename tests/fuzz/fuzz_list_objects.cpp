// Fuzz target: S3 ListObjectsV2 page parsing (parse_list_objects_v2_response) over arbitrary
// bodies, and the request builder over arbitrary prefix/token bytes. Checks: no exception; a
// page holds at most 1000 + 1000 entries and a truncated page has a token; an error is
// malformed_response with a short message; request query values read back exactly.
#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/s3/list_objects.hpp"
#include "ctsqs/aws/sigv4/canonical_request.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctsqs;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    Diagnostics diag;
    auto page = s3::parse_list_objects_v2_response(body, diag);
    if (page) {
      if (page->objects.size() > 1000 || page->common_prefixes.size() > 1000) __builtin_trap();
      if (page->objects.size() + page->common_prefixes.size() > 2000) __builtin_trap();
      if (page->is_truncated && page->next_continuation_token.empty()) __builtin_trap();
      if (!diag.message.empty()) __builtin_trap();
    } else {
      if (page.error() != aws_errc::malformed_response) __builtin_trap();
      // Messages name the element and quote at most 64 bytes (escaped): never the whole body.
      if (diag.message.rfind("S3 ListObjectsV2 response: ", 0) != 0 || diag.message.size() > 1024)
        __builtin_trap();
    }

    // The request: any bytes as prefix and token are sent so that the server reads them back.
    const std::string_view value = body.substr(0, 512);
    s3::ListObjectsV2Params p;
    p.endpoint.host = size % 2 ? "s3.us-east-1.amazonaws.com" : "127.0.0.1:4568";
    p.bucket = "ct-logs";
    p.prefix = std::string(value);
    p.continuation_token = std::string(value);
    p.max_keys = 1 + static_cast<int>(size % 1000);
    Diagnostics rdiag;
    auto req = s3::make_list_objects_v2_request(p, rdiag);
    if (!req) __builtin_trap();
    if (req->path != "/" && req->path != "/ct-logs") __builtin_trap();
    // Each value is fully encoded: no separator, plus, slash or space survives in it.
    for (std::string_view rest = req->query; !rest.empty();) {
      const auto amp = rest.find('&');
      const std::string_view part = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      const auto eq = part.find('=');
      if (eq == std::string_view::npos || part.find_first_of(" +/=?#", eq + 1) != std::string_view::npos)
        __builtin_trap();
    }
    for (const auto& q : sigv4::parse_query(req->query))
      if ((q.key == "prefix" || q.key == "continuation-token") && q.value != value) __builtin_trap();
  } catch (...) {
    __builtin_trap();  // the parser and builder report errors, they never throw
  }
  return 0;
}
