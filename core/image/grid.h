// Gray image helpers shared by the sampling service and the CLI: the one
// quantisation of sample values to 8-bit pixels, and tiling images into a grid
// PNG. Torch-free; thread-safe (pure functions).
#ifndef PROXFLOW_CORE_IMAGE_GRID_H_
#define PROXFLOW_CORE_IMAGE_GRID_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace proxflow::image {

// The 8-bit pixel of a sample value: round(255 · clamp(x, 0, 1)), NaN → 0.
uint8_t QuantizePixel(float x);

struct GridOptions {
  int columns = 0;  // 0: ceil(sqrt(count))
  int scale = 2;    // each pixel becomes scale × scale, 1..16
  int gap = 2;      // white pixels between tiles (after scaling), 0..64
};

// Tiles `images` (each height rows of width gray bytes) row by row on a white
// canvas and returns it as a gray PNG. INVALID_ARGUMENT when there are no
// images, an image has the wrong size, or an option is out of range.
absl::StatusOr<std::string> TileGrayGrid(
    const std::vector<std::vector<uint8_t>>& images, int width, int height,
    const GridOptions& options = {});

}  // namespace proxflow::image

#endif  // PROXFLOW_CORE_IMAGE_GRID_H_
