#include "core/image/scatter_plot.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/image/canvas.h"
#include "core/image/png.h"

namespace proxflow::image {

absl::StatusOr<std::string> RenderScatterPng(
    const std::vector<PointSeries>& series, const PlotOptions& options) {
  const int size = options.size;
  if (size < 16 || size > 8192) {
    return absl::InvalidArgumentError(
        absl::StrCat("plot size must be in [16, 8192], got ", size));
  }
  float range = options.half_range;
  for (const PointSeries& s : series) {
    if (s.xy.size() % 2 != 0) {
      return absl::InvalidArgumentError("plot series must hold x,y pairs");
    }
    if (options.half_range <= 0) {
      for (float v : s.xy) {
        if (std::isfinite(v)) range = std::max(range, std::abs(v) * 1.05f);
      }
    }
  }
  if (range <= 0) range = 1;
  Canvas canvas(size, size);
  const Rgb grid = {225, 225, 225};
  for (int i = 0; i < size; ++i) {
    canvas.Put(i, size / 2, grid);
    canvas.Put(size / 2, i, grid);
  }
  for (const PointSeries& s : series) {
    for (size_t i = 0; i + 1 < s.xy.size(); i += 2) {
      if (!std::isfinite(s.xy[i]) || !std::isfinite(s.xy[i + 1])) continue;
      const int px =
          static_cast<int>((s.xy[i] / range * 0.5f + 0.5f) * (size - 1));
      const int py =
          static_cast<int>((0.5f - s.xy[i + 1] / range * 0.5f) * (size - 1));
      for (int dy = 0; dy < 2; ++dy) {
        for (int dx = 0; dx < 2; ++dx) canvas.Put(px + dx, py + dy, s.rgb);
      }
    }
  }
  return EncodePng(canvas.pixels(), size, size, 3);
}

}  // namespace proxflow::image
