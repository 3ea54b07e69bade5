// Categories and formatting for the shared error model.
#include "ctsqs/error.hpp"
#include "detail/error_category.hpp"

namespace ctsqs {
namespace {

const char* describe(client_errc e) noexcept {
  switch (e) {
    case client_errc::invalid_argument: return "invalid argument";
    case client_errc::io_error: return "I/O error";
    case client_errc::cancelled: return "cancelled";
    case client_errc::timeout: return "timed out";
    case client_errc::limit_exceeded: return "limit exceeded";
    case client_errc::sink_failed: return "sink failed to deliver";
    case client_errc::sink_closed: return "sink closed by its reader";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& client_category() noexcept {
  static const detail::EnumErrorCategory<client_errc> cat("ctsqs.client", describe, "unknown client error");
  return cat;
}

std::string to_string(const Diagnostics& d) {
  std::string out;
  if (!d.aws_code.empty()) out += d.aws_code;
  if (d.http_status != 0 || !d.request_id.empty()) {
    out += out.empty() ? "(" : " (";
    if (d.http_status != 0) out += "HTTP " + std::to_string(d.http_status);
    if (!d.request_id.empty()) {
      if (d.http_status != 0) out += ", ";
      out += "request id " + d.request_id;
    }
    out += ")";
  }
  if (!d.message.empty()) {
    if (!out.empty()) out += ": ";
    out += d.message;
  }
  return out;
}

}  // namespace ctsqs
