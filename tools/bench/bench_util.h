// Small helpers shared by the benchmark programs. Thread-compatible.
#ifndef PROXFLOW_TOOLS_BENCH_BENCH_UTIL_H_
#define PROXFLOW_TOOLS_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <chrono>
#include <vector>

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

}  // namespace proxflow::bench

#endif  // PROXFLOW_TOOLS_BENCH_BENCH_UTIL_H_
