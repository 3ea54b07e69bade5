// A blocking, plain-TCP HTTP/1.1 exchange for integration tests (gate control API, unsigned peers).
#pragma once

#include "ctsqs/transport/http.hpp"

#include <chrono>
#include <string>

namespace ctsqs::test {

/// Sends `req` to the `host[:port]` in `req.host` over plain TCP (no TLS, no signing) and returns
/// the whole response. The Host header is `req.host` unless `req` sets one; Content-Length is
/// set from the body. Throws std::runtime_error naming the URL on connection failure or when
/// `timeout` passes. Meant for tests only: one connection per call, body held in memory.
HttpResponse http_exchange(const HttpRequest& req,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Convenience: GET/POST/DELETE `http://127.0.0.1:<port><target>` with an optional body.
HttpResponse http_call(std::string method, unsigned short port, std::string target,
                       std::string body = {}, std::string content_type = "application/json");

}  // namespace ctsqs::test
