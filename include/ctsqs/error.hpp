// Error model shared by every module: error codes, result<T>, and Diagnostics for the human detail.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <type_traits>

namespace ctsqs {

using boost::system::error_code;

/// Value-or-error return type used throughout the library (Boost.MySQL's model).
template <class T>
using result = boost::system::result<T, error_code>;

/// Generic client-side errors that are not tied to one module.
/// Modules define their own enums (e.g. decode errors, AWS errors) with their own categories;
/// this one holds what is shared.
enum class client_errc : int {
  invalid_argument = 1,   ///< an argument or configuration value is invalid
  io_error,               ///< reading or writing a local file failed
  cancelled,              ///< the operation was cancelled (shutdown)
  timeout,                ///< a deadline passed
  limit_exceeded,         ///< a configured size or count limit was hit
  sink_failed,            ///< a sink could not deliver; nothing after the last good flush counts
  sink_closed,            ///< a sink's reader is gone for good (broken pipe): it takes no more events
};

/// The category of client_errc.
const boost::system::error_category& client_category() noexcept;

inline error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

/// The human detail of a failure, filled next to an error_code (an out-parameter).
/// Never holds secrets: whoever fills it must leave credentials out.
struct Diagnostics {
  std::string message;     ///< what went wrong, naming the object/field/file it concerns
  std::string aws_code;    ///< AWS error code, e.g. "AccessDenied" (empty when not from AWS)
  std::string request_id;  ///< AWS request id (x-amzn-RequestId / x-amz-request-id)
  int http_status = 0;     ///< HTTP status of the response, 0 when there was none

  void clear() { *this = Diagnostics{}; }
  bool empty() const noexcept { return message.empty() && aws_code.empty() && http_status == 0; }
};

/// "AccessDenied (HTTP 403, request id X): message" — empty parts are left out.
std::string to_string(const Diagnostics& d);

inline std::ostream& operator<<(std::ostream& os, const Diagnostics& d) { return os << to_string(d); }

}  // namespace ctsqs

template <>
struct boost::system::is_error_code_enum<ctsqs::client_errc> : std::true_type {};
