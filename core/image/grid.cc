#include "core/image/grid.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/image/png.h"

namespace proxflow::image {

uint8_t QuantizePixel(float x) {
  if (!(x > 0)) return 0;  // also NaN
  if (x >= 1) return 255;
  return static_cast<uint8_t>(std::lround(x * 255.0f));
}

absl::StatusOr<std::string> TileGrayGrid(
    const std::vector<std::vector<uint8_t>>& images, int width, int height,
    const GridOptions& options) {
  if (images.empty()) return absl::InvalidArgumentError("grid: no images");
  if (width <= 0 || height <= 0 || options.scale < 1 || options.scale > 16 ||
      options.gap < 0 || options.gap > 64 || options.columns < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "grid: bad geometry (", width, "x", height, ", scale ", options.scale,
        ", gap ", options.gap, ", columns ", options.columns, ")"));
  }
  const int n = static_cast<int>(images.size());
  const int cols = options.columns > 0
                       ? options.columns
                       : static_cast<int>(std::ceil(std::sqrt(n)));
  const int rows = (n + cols - 1) / cols;
  const int tw = width * options.scale, th = height * options.scale;
  const int canvas_w = cols * tw + (cols + 1) * options.gap;
  const int canvas_h = rows * th + (rows + 1) * options.gap;
  std::vector<uint8_t> canvas(static_cast<size_t>(canvas_w) * canvas_h, 255);
  for (int i = 0; i < n; ++i) {
    if (images[i].size() != static_cast<size_t>(width) * height) {
      return absl::InvalidArgumentError(
          absl::StrCat("grid: image ", i, " has ", images[i].size(),
                       " pixels, expected ", width * height));
    }
    const int x0 = options.gap + (i % cols) * (tw + options.gap);
    const int y0 = options.gap + (i / cols) * (th + options.gap);
    for (int y = 0; y < th; ++y) {
      for (int x = 0; x < tw; ++x) {
        canvas[static_cast<size_t>(y0 + y) * canvas_w + x0 + x] =
            images[i][static_cast<size_t>(y / options.scale) * width +
                      x / options.scale];
      }
    }
  }
  return EncodePng(canvas, canvas_w, canvas_h, 1);
}

}  // namespace proxflow::image
