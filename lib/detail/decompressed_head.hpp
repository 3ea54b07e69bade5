// The first decompressed bytes of an object, for content recognition (internal: the service
// router's claim fallback; defined in lib/service_router.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ctsqs {

/// The first decompressed bytes of an object from its first raw bytes: gzip is inflated (as
/// far as `raw` goes, at most `max_bytes`), anything else is returned as it is. Empty when
/// `raw` is a gzip header alone or is not valid gzip.
std::string decompressed_head(std::string_view raw, std::size_t max_bytes);

}  // namespace ctsqs
