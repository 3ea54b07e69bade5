// One error_category for every project error enum (internal): a name, the enum's messages and a
// fallback for values the enum does not have, instead of a hand-written class per enum.
#pragma once

#include <boost/system/error_category.hpp>

#include <string>

namespace ctsqs::detail {

/// The category of the error enum `Enum`: `name()` is `name`, `message(ev)` is
/// `describe(Enum(ev))`, or `fallback` when that is null (a value the enum does not define).
template <class Enum>
class EnumErrorCategory final : public boost::system::error_category {
 public:
  using Describe = const char* (*)(Enum) noexcept;

  EnumErrorCategory(const char* name, Describe describe, const char* fallback) noexcept
      : name_(name), describe_(describe), fallback_(fallback) {}

  const char* name() const noexcept override { return name_; }

  std::string message(int ev) const override {
    const char* m = describe_(static_cast<Enum>(ev));
    return m != nullptr ? m : fallback_;
  }

 private:
  const char* name_;
  Describe describe_;
  const char* fallback_;
};

}  // namespace ctsqs::detail
