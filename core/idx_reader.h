// Reader of IDX files (the MNIST format), raw or gzip-compressed. Torch-free.
//
// Validates the magic number (0x0000 08 NN: unsigned bytes, NN dimensions), the
// dimension sizes and the exact payload length, so a malformed file is a clear
// error and never a partial read. Thread-safe (no shared state).
#ifndef PROXFLOW_CORE_IDX_READER_H_
#define PROXFLOW_CORE_IDX_READER_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow::core {

struct IdxFile {
  std::string path;
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // product(dims) bytes, row-major
};

// Largest payload accepted (bytes): 60,000 MNIST images are 47 MB.
inline constexpr int64_t kMaxIdxPayloadBytes = int64_t{1} << 30;

// Parses an IDX byte string. `name` is used in error messages. INVALID_ARGUMENT
// names the problem: wrong magic, unsupported type, zero or oversized
// dimensions, truncated payload or trailing bytes.
absl::StatusOr<IdxFile> ParseIdx(absl::string_view bytes,
                                 absl::string_view name);

// Reads and parses `path`; gzip files are inflated transparently. NOT_FOUND if
// missing.
absl::StatusOr<IdxFile> ReadIdxFile(const std::string& path);

// Reads the first of `<dir>/<base>.gz` and `<dir>/<base>` that exists, trying
// `bases` in order. NOT_FOUND lists what was tried.
absl::StatusOr<IdxFile> ReadIdxFromDir(
    const std::string& dir, std::initializer_list<absl::string_view> bases);

// MNIST's two IDX files in `dir` (the t10k or train images and labels, gzip
// or raw), checked against each other: N×28×28 images, N labels. Errors name
// the file and the problem (NOT_FOUND lists what was tried; INVALID_ARGUMENT or
// DATA_LOSS for a malformed file), never a partial read.
struct MnistIdx {
  IdxFile images;  // dims {N, 28, 28}
  IdxFile labels;  // dims {N}
};
absl::StatusOr<MnistIdx> ReadMnistIdx(const std::string& dir);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_IDX_READER_H_
