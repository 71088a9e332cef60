// Small helpers shared by the benchmark programs. Thread-compatible.
#ifndef PROXFLOW_TOOLS_BENCH_BENCH_UTIL_H_
#define PROXFLOW_TOOLS_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace proxflow::bench {

using Clock = std::chrono::steady_clock;

// The median (upper median for even sizes) of a non-empty sample.
inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The MNIST directory: `flag` when set, else $PROXFLOW_MNIST_DIR, else "" (the
// benchmark skips MNIST).
inline std::string MnistDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("PROXFLOW_MNIST_DIR");
  return env == nullptr ? "" : env;
}

// A benchmark's exit code: 0, or 1 after printing `status` to stderr.
inline int ExitCode(const char* program, const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "%s: %s\n", program, status.ToString().c_str());
  return 1;
}

}  // namespace proxflow::bench

#endif  // PROXFLOW_TOOLS_BENCH_BENCH_UTIL_H_
