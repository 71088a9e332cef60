// For fuzz targets whose code under test reads a path: the input written to a
// per-process scratch file (reused across inputs).
#ifndef PROXFLOW_TESTS_FUZZ_FUZZ_FILE_H_
#define PROXFLOW_TESTS_FUZZ_FUZZ_FILE_H_

#include <unistd.h>

#include <cstdio>
#include <string>

namespace proxflow::fuzz {

inline std::string WriteInput(const std::string& bytes) {
  static const std::string path =
      "/tmp/proxflow-fuzz-" + std::to_string(::getpid()) + ".bin";
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  return path;
}

}  // namespace proxflow::fuzz

#endif  // PROXFLOW_TESTS_FUZZ_FUZZ_FILE_H_
