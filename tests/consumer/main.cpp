// Consumer of the installed package: uses the public API through find_package(ctsqs).
#include <ctsqs/error.hpp>

#include <iostream>

int main() {
  ctsqs::Diagnostics d;
  d.aws_code = "AccessDenied";
  d.http_status = 403;
  ctsqs::error_code ec = ctsqs::client_errc::invalid_argument;
  std::cout << to_string(d) << " / " << ec.message() << "\n";
  return to_string(d) == "AccessDenied (HTTP 403)" ? 0 : 1;
}
