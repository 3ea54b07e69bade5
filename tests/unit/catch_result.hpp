// Lets Catch2 print boost::system::result<T> in CHECK(r) (its own operator<< needs a printable T),
// and require_create<T>(args...) for a T::create(args..., diag) that must succeed.
#pragma once

#include "catch.hpp"

#include "ctsqs/error.hpp"

#include <boost/system/result.hpp>

#include <string>
#include <utility>

namespace Catch {
template <class T, class E>
struct StringMaker<boost::system::result<T, E>> {
  static std::string convert(const boost::system::result<T, E>& r) {
    return r.has_value() ? std::string("result(value)") : "result(error: " + r.error().message() + ")";
  }
};
}  // namespace Catch

/// The value of `T::create(args..., diag)`; the test fails there, with the Diagnostics' message,
/// when it is an error (for tests whose subject is not the creation itself).
template <class T, class... Args>
auto require_create(Args&&... args) {
  ctsqs::Diagnostics diag;
  auto made = T::create(std::forward<Args>(args)..., diag);
  INFO("create(): " << diag.message);
  REQUIRE(made);
  return std::move(*made);
}
