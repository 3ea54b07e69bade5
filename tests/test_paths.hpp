// Where tests find their data: the project's own fixtures and the optional shared third-party data.
#pragma once

#include <filesystem>

namespace ctsqs::test {

/// tests/data in the source tree.
inline std::filesystem::path data_dir() { return CTSQS_TEST_DATA_DIR; }

/// ../shared/testdata beside the checkout; may not exist (fresh clone): tests then skip.
inline std::filesystem::path shared_testdata_dir() { return CTSQS_SHARED_TESTDATA_DIR; }

inline bool has_shared_testdata() {
  std::error_code ec;
  return std::filesystem::is_directory(shared_testdata_dir(), ec);
}

}  // namespace ctsqs::test
