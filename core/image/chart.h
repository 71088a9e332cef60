// Line and bar charts rendered to a PNG: the lab's loss curves and
// off-manifold densities. Axes carry their numeric ranges in a built-in 3×5
// pixel font (digits, '.', '-', 'e', '+'); series are told apart by colour
// (the report's caption names them). Torch-free; thread-compatible.
#ifndef PROXFLOW_CORE_IMAGE_CHART_H_
#define PROXFLOW_CORE_IMAGE_CHART_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace proxflow::image {

struct ChartSeries {
  std::vector<double> x;
  std::vector<double> y;  // same length as x; non-finite values are skipped
  std::array<uint8_t, 3> rgb = {31, 119, 180};
  bool bars = false;  // vertical bars from the x axis instead of a polyline
};

struct ChartOptions {
  int width = 640;
  int height = 360;
  bool log_y = false;  // plot log10(y); values <= 0 are skipped
};

// Frames every finite point of every series (later series on top) and
// returns the PNG. INVALID_ARGUMENT for mismatched x/y lengths or a size
// outside [64, 4096].
absl::StatusOr<std::string> RenderChartPng(
    const std::vector<ChartSeries>& series, const ChartOptions& options);

}  // namespace proxflow::image

#endif  // PROXFLOW_CORE_IMAGE_CHART_H_
