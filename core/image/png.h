// PNG encoding and decoding of 8-bit gray or RGB images in memory (libpng).
// Torch-free; thread-safe.
#ifndef PROXFLOW_CORE_IMAGE_PNG_H_
#define PROXFLOW_CORE_IMAGE_PNG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace proxflow::image {

// `pixels` holds height rows of width·channels bytes; channels is 1 (gray) or 3
// (RGB). INVALID_ARGUMENT when the sizes disagree; INTERNAL when libpng fails.
absl::StatusOr<std::string> EncodePng(const std::vector<uint8_t>& pixels,
                                      int width, int height, int channels);

struct DecodedImage {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1 (gray) or 3 (RGB), as stored
  std::vector<uint8_t> pixels;  // height rows of width·channels bytes
};

// Decodes an 8-bit gray or RGB PNG. INVALID_ARGUMENT for anything else (not a
// PNG, truncated, other bit depths or an alpha channel).
absl::StatusOr<DecodedImage> DecodePng(const std::string& png);

}  // namespace proxflow::image

#endif  // PROXFLOW_CORE_IMAGE_PNG_H_
