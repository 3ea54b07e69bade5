// Raw HTTP/1.1 request text (the AWS SigV4 test suite's request.txt format) to and from HttpRequest.
#pragma once

#include "ctsqs/error.hpp"
#include "ctsqs/transport/http.hpp"

#include <string>
#include <string_view>

namespace ctsqs::sigv4 {

/// Parses "METHOD TARGET HTTP/1.1\nName:value\n...\n\nbody". Lines may end in "\n" or "\r\n";
/// the target must start with '/', may contain spaces (the suite's `/example space/`) and is
/// split at the first `?` into path and query, kept raw. Header values are kept byte for byte
/// after the colon (SigV4 canonicalization trims them) and may not hold control characters
/// other than tab; a line starting with a space or tab continues the previous header and
/// becomes one more value of it (joined with `,` when signed). Everything after the
/// first empty line is the body. `host` is set from the Host header. Errors name the line.
/// Input is untrusted (fuzzed by tests/fuzz/fuzz_http_request.cpp).
result<HttpRequest> parse_request_text(std::string_view text, Diagnostics& diag);

/// Writes `req` in the same format, headers as "Name:value" in order, "\n" line ends, then an
/// empty line and the body: the suite's signed-request.txt form.
std::string to_request_text(const HttpRequest& req);

}  // namespace ctsqs::sigv4
