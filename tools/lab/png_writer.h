// PNG encoding of 8-bit gray or RGB images into memory (libpng). Torch-free;
// thread-safe.
#ifndef PROXFLOW_TOOLS_LAB_PNG_WRITER_H_
#define PROXFLOW_TOOLS_LAB_PNG_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace proxflow::image {

// `pixels` holds height rows of width·channels bytes; channels is 1 (gray) or 3
// (RGB). INVALID_ARGUMENT when the sizes disagree; INTERNAL when libpng fails.
absl::StatusOr<std::string> EncodePng(const std::vector<uint8_t>& pixels,
                                      int width, int height, int channels);

}  // namespace proxflow::image

#endif  // PROXFLOW_TOOLS_LAB_PNG_WRITER_H_
