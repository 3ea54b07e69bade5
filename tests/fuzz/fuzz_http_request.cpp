// Fuzz target: the raw HTTP request parser of `ctsqs sign`, its writer (round trip) and the signer on what it accepts.
#include "ctsqs/aws/sigv4/request_text.hpp"
#include "ctsqs/aws/sigv4/signer.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ctsqs::Diagnostics diag;
  auto req = ctsqs::sigv4::parse_request_text(text, diag);
  if (!req) {
    if (diag.message.empty()) std::abort();  // every rejection must say why
    return 0;
  }
  // What we write, we read back identically.
  auto again = ctsqs::sigv4::parse_request_text(ctsqs::sigv4::to_request_text(*req), diag);
  if (!again || again->method != req->method || again->path != req->path ||
      again->query != req->query || again->body != req->body ||
      again->headers.size() != req->headers.size())
    std::abort();
  for (std::size_t i = 0; i < req->headers.size(); ++i)
    if (again->headers[i].name != req->headers[i].name || again->headers[i].value != req->headers[i].value)
      std::abort();

  ctsqs::Credentials creds{"AKIDEXAMPLE", "secret", size % 2 ? "token" : "", std::nullopt, "fuzz"};
  ctsqs::sigv4::SigningParams p;
  p.region = "us-east-1";
  p.service = size % 3 ? "sqs" : "s3";
  p.time = std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
  if (req->host.empty()) req->host = "example.amazonaws.com";
  for (bool query : {false, true}) {
    p.query_signing = query;
    auto s = ctsqs::sigv4::sign_request(*req, creds, p, diag);
    if (!s || s->signature.size() != 64) std::abort();
  }
  return 0;
}
