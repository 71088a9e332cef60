// Helpers shared by the lab commands: point conversions, metric formatting,
// plots.
#ifndef PROXFLOW_TOOLS_LAB_LAB_COMMON_H_
#define PROXFLOW_TOOLS_LAB_LAB_COMMON_H_

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/trainer.h"

namespace proxflow::lab {

// " name=value" pairs of a metrics record.
std::string FormatMetrics(const core::Metrics& m);

// A (n, dimension) float tensor viewing a copy of the points.
at::Tensor ToTensor(const core::PointSamples& p);

// The first two coordinates of every point, interleaved x0,y0,x1,y1,...
std::vector<float> FirstTwo(const core::PointSamples& p);

// Writes a PNG scatter plot of target (grey) and generated (blue) points, first
// two coordinates, to `path` atomically.
absl::Status WriteScatterPlot(const std::string& path,
                              const core::PointSamples& target,
                              const core::PointSamples& generated);

// Wall-clock seconds since construction (steady clock).
class Stopwatch {
 public:
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_ =
      std::chrono::steady_clock::now();
};

// A trainer of `preset` for benchmarks: no evaluation, no checkpoints, MNIST
// read from `mnist_dir` when given.
absl::StatusOr<std::unique_ptr<core::Trainer>> BenchTrainer(
    const std::string& preset, const std::string& mnist_dir,
    const std::string& device, const std::string& precision);

// The process's peak resident memory so far (VmHWM of /proc/self/status) in
// MiB; 0 when unreadable.
double PeakResidentMiB();

// "1h02m", "4m10s", "12s".
std::string FormatDuration(double seconds);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_LAB_COMMON_H_
