// Data files a user can upload as a training set. Torch-free.
//
// Two formats:
//  * IDX (the MNIST format, raw, unsigned bytes): the first dimension counts
//    samples, the rest form one row; pixels are scaled to [0,1] on load.
//  * float32 array ("PXFA"): a 24-byte header, then rows×cols little-endian
//    IEEE-754 floats, row-major. Header: the 4 bytes "PXFA", uint32 version
//    (1), int64 rows, int64 cols, all little-endian. Every value must be
//    finite.
// Thread-safe (no shared state).
#ifndef PROXFLOW_CORE_DATA_FILE_H_
#define PROXFLOW_CORE_DATA_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow::core {

enum class DataFileFormat { kIdx, kFloat32Array };

inline constexpr int64_t kFloatArrayHeaderBytes = 24;

// Shape of a data file, from its header and size alone.
struct DataFileInfo {
  DataFileFormat format = DataFileFormat::kIdx;
  int64_t rows = 0;
  int64_t dimension = 0;  // values per row
};

// Rows of a data file as floats (IDX bytes scaled by 1/255).
struct DataRows {
  int64_t rows = 0;
  int64_t dimension = 0;
  std::vector<float> values;  // rows × dimension, row-major
};

// Checks that the file at `path` is a well-formed `format` file by reading its
// header and comparing the size it implies with the file's size (values are
// not read, so this is cheap for large files). INVALID_ARGUMENT naming `name`
// and the problem (wrong magic, version, zero or oversized dimensions,
// truncated or trailing bytes); NOT_FOUND when the file is missing.
absl::StatusOr<DataFileInfo> InspectDataFile(const std::string& path,
                                             DataFileFormat format,
                                             absl::string_view name);

// Reads and fully validates a data file of either format (told apart by the
// magic number), including that float32 values are finite. Errors as
// InspectDataFile, naming `name`.
absl::StatusOr<DataRows> ReadDataFile(const std::string& path,
                                      absl::string_view name);

// The bytes of a float32 array file holding `rows`×`cols` values.
std::string SerializeFloatArray(int64_t rows, int64_t cols,
                                const std::vector<float>& values);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_DATA_FILE_H_
