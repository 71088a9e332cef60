#include "core/data_file.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/base/file_util.h"
#include "core/base/status_macros.h"
#include "core/idx_reader.h"

namespace proxflow::core {
namespace {

constexpr char kFloatMagic[4] = {'P', 'X', 'F', 'A'};
constexpr uint32_t kFloatVersion = 1;
// Largest data file accepted, in bytes (the same cap as IDX payloads).
constexpr int64_t kMaxDataFileBytes = kMaxIdxPayloadBytes + 1024;

// The files are little-endian; so is every machine we build for (x86-64,
// aarch64), which lets the codec copy bytes.
static_assert(std::endian::native == std::endian::little);

template <typename T>
T LoadLe(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
void AppendLe(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

absl::Status Bad(absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", problem));
}

// Shape from a float array header plus the total size of the file.
absl::StatusOr<DataFileInfo> FloatArrayShape(absl::string_view header,
                                             int64_t file_size,
                                             absl::string_view name) {
  if (file_size < kFloatArrayHeaderBytes ||
      std::memcmp(header.data(), kFloatMagic, 4) != 0) {
    return Bad(name, "not a float32 array file (expected the magic \"PXFA\")");
  }
  const uint32_t version = LoadLe<uint32_t>(header.data() + 4);
  if (version != kFloatVersion)
    return Bad(name, absl::StrCat("unsupported float32 array version ", version,
                                  " (expected 1)"));
  const int64_t rows = LoadLe<int64_t>(header.data() + 8);
  const int64_t cols = LoadLe<int64_t>(header.data() + 16);
  if (rows <= 0 || cols <= 0 || cols > 65536 ||
      rows > kMaxDataFileBytes / 4 / cols) {
    return Bad(name, absl::StrCat("invalid shape ", rows, "x", cols,
                                  " (rows >= 1, 1 <= cols <= 65536)"));
  }
  const int64_t expected = kFloatArrayHeaderBytes + rows * cols * 4;
  if (file_size != expected) {
    return Bad(
        name,
        absl::StrCat(file_size < expected ? "truncated" : "trailing bytes",
                     ": ", file_size, " bytes, the header implies ", expected));
  }
  return DataFileInfo{DataFileFormat::kFloat32Array, rows, cols};
}

// Shape from an IDX header (`header` holds at least 4 + 4·ndims bytes when
// the file has them).
absl::StatusOr<DataFileInfo> IdxShape(absl::string_view header,
                                      int64_t file_size,
                                      absl::string_view name) {
  const auto* p = reinterpret_cast<const unsigned char*>(header.data());
  if (header.size() < 4 || p[0] != 0 || p[1] != 0 || p[2] != 0x08) {
    return Bad(name,
               "not an unsigned-byte IDX file (expected magic 0x000008NN)");
  }
  const int ndims = p[3];
  if (ndims < 1 || header.size() < 4 + 4 * static_cast<size_t>(ndims)) {
    return Bad(name, absl::StrCat("IDX header with ", ndims,
                                  " dimensions is truncated or empty"));
  }
  int64_t rows = 0, dimension = 1;
  for (int i = 0; i < ndims; ++i) {
    const unsigned char* q = p + 4 + 4 * i;
    const int64_t size = (int64_t{q[0]} << 24) | (int64_t{q[1]} << 16) |
                         (int64_t{q[2]} << 8) | q[3];
    if (size == 0 || size > kMaxDataFileBytes)
      return Bad(name, absl::StrCat("IDX dimension ", i, " is ", size));
    if (i == 0) {
      rows = size;
    } else {
      dimension *= size;
      if (dimension > 65536)
        return Bad(name, "IDX rows longer than 65536 values");
    }
  }
  if (rows > kMaxDataFileBytes / dimension)
    return Bad(name, "IDX payload larger than the 1 GiB limit");
  const int64_t expected = 4 + 4 * int64_t{ndims} + rows * dimension;
  if (file_size != expected) {
    return Bad(
        name,
        absl::StrCat(file_size < expected ? "truncated" : "trailing bytes",
                     ": ", file_size, " bytes, the header implies ", expected));
  }
  return DataFileInfo{DataFileFormat::kIdx, rows, dimension};
}

absl::StatusOr<DataFileInfo> ShapeOf(DataFileFormat format,
                                     absl::string_view header, int64_t size,
                                     absl::string_view name) {
  return format == DataFileFormat::kIdx ? IdxShape(header, size, name)
                                        : FloatArrayShape(header, size, name);
}

}  // namespace

absl::StatusOr<DataFileInfo> InspectDataFile(const std::string& path,
                                             DataFileFormat format,
                                             absl::string_view name) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return absl::NotFoundError(absl::StrCat(name, ": cannot open"));
  const int64_t size = static_cast<int64_t>(in.tellg());
  in.seekg(0);
  // The longest header: IDX with 255 dimensions.
  std::string header(std::min<int64_t>(size, 4 + 4 * 255), '\0');
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  if (!in) return absl::DataLossError(absl::StrCat(name, ": read failed"));
  return ShapeOf(format, header, size, name);
}

absl::StatusOr<DataRows> ReadDataFile(const std::string& path,
                                      absl::string_view name) {
  PROXFLOW_ASSIGN_OR_RETURN(std::string bytes,
                            ReadFile(path, kMaxDataFileBytes));
  const DataFileFormat format =
      bytes.size() >= 4 && std::memcmp(bytes.data(), kFloatMagic, 4) == 0
          ? DataFileFormat::kFloat32Array
          : DataFileFormat::kIdx;
  PROXFLOW_ASSIGN_OR_RETURN(
      DataFileInfo info,
      ShapeOf(format, bytes, static_cast<int64_t>(bytes.size()), name));
  DataRows out{info.rows, info.dimension, {}};
  const size_t n = static_cast<size_t>(info.rows * info.dimension);
  out.values.resize(n);
  const char* payload = bytes.data() + bytes.size() -
                        (format == DataFileFormat::kIdx ? n : 4 * n);
  if (format == DataFileFormat::kIdx) {
    for (size_t i = 0; i < n; ++i)
      out.values[i] = static_cast<unsigned char>(payload[i]) / 255.0f;
    return out;
  }
  std::memcpy(out.values.data(), payload, 4 * n);
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(out.values[i])) {
      return Bad(name, absl::StrCat("value ", i / info.dimension, ",",
                                    i % info.dimension, " is not finite"));
    }
  }
  return out;
}

std::string SerializeFloatArray(int64_t rows, int64_t cols,
                                const std::vector<float>& values) {
  std::string out(kFloatMagic, 4);
  AppendLe<uint32_t>(out, kFloatVersion);
  AppendLe<int64_t>(out, rows);
  AppendLe<int64_t>(out, cols);
  out.append(reinterpret_cast<const char*>(values.data()),
             values.size() * sizeof(float));
  return out;
}

}  // namespace proxflow::core
