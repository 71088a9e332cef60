// ReadOrEmpty: a whole file for test assertions (core/base's ReadFile, "" when
// it cannot be read, so a missing file fails the comparison, not the test
// program). Header-only; thread-safe.
#ifndef PROXFLOW_TESTS_TESTING_READ_FILE_H_
#define PROXFLOW_TESTS_TESTING_READ_FILE_H_

#include <string>

#include "core/base/file_util.h"

namespace proxflow::testing {

inline std::string ReadOrEmpty(const std::string& path) {
  return ReadFile(path, size_t{256} << 20).value_or("");
}

}  // namespace proxflow::testing

#endif  // PROXFLOW_TESTS_TESTING_READ_FILE_H_
