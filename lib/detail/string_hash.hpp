// StringHash: a transparent hash for unordered containers keyed by std::string, so a lookup by
// std::string_view (an event's tag) neither allocates nor copies the key.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace ctsqs::detail {

/// Use as `std::unordered_map<std::string, T, StringHash, std::equal_to<>>`.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace ctsqs::detail
