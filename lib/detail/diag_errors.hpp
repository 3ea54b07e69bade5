// Private helpers shared by the library's modules: an invalid-argument error with its message.
#pragma once

#include "ctsqs/error.hpp"

#include <string>
#include <utility>

namespace ctsqs::detail {

/// Sets diag.message (nothing else of diag) and returns client_errc::invalid_argument.
inline error_code invalid_argument(Diagnostics& diag, std::string message) {
  diag.message = std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

}  // namespace ctsqs::detail
