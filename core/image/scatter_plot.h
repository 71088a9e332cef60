// Scatter plots of 2-D point sets rendered to an RGB canvas. Torch-free;
// thread-compatible.
#ifndef PROXFLOW_CORE_IMAGE_SCATTER_PLOT_H_
#define PROXFLOW_CORE_IMAGE_SCATTER_PLOT_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace proxflow::image {

struct PointSeries {
  std::vector<float> xy;  // x0, y0, x1, y1, ...
  std::array<uint8_t, 3> rgb = {31, 119, 180};
};

struct PlotOptions {
  int size = 512;        // pixels per side
  float half_range = 0;  // axis range [-r, r]; 0 = fit all points with a margin
};

// Draws every series (later ones on top) on a white square with a light grid
// through the origin and returns a PNG. INVALID_ARGUMENT for an odd coordinate
// count or size < 16.
absl::StatusOr<std::string> RenderScatterPng(
    const std::vector<PointSeries>& series, const PlotOptions& options);

}  // namespace proxflow::image

#endif  // PROXFLOW_CORE_IMAGE_SCATTER_PLOT_H_
