// Lets Catch2 print boost::system::result<T> in CHECK(r) (its own operator<< needs a printable T).
#pragma once

#include "catch.hpp"

#include <boost/system/result.hpp>

#include <string>

namespace Catch {
template <class T, class E>
struct StringMaker<boost::system::result<T, E>> {
  static std::string convert(const boost::system::result<T, E>& r) {
    return r.has_value() ? std::string("result(value)") : "result(error: " + r.error().message() + ")";
  }
};
}  // namespace Catch
