#include "core/idx_reader.h"

#include <zlib.h>

#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/status_macros.h"

namespace proxflow::core {
namespace {

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | p[3];
}

// Reads a whole file through zlib (which passes non-gzip files through
// unchanged), refusing more than `limit` bytes.
absl::StatusOr<std::string> ReadMaybeGzip(const std::string& path,
                                          int64_t limit) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"),
                                                  gzclose);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string out;
  char buffer[1 << 16];
  while (true) {
    const int n = gzread(file.get(), buffer, sizeof(buffer));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(file.get(), &err);
      return absl::DataLossError(
          absl::StrCat(path, ": corrupt or truncated gzip data (", msg, ")"));
    }
    if (n == 0) break;
    if (static_cast<int64_t>(out.size()) + n > limit) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than ", limit, " bytes"));
    }
    out.append(buffer, n);
  }
  return out;
}

}  // namespace

absl::StatusOr<IdxFile> ParseIdx(absl::string_view bytes,
                                 absl::string_view name) {
  const auto bad = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", parts...));
  };
  if (bytes.size() < 4)
    return bad("too short for an IDX header (", bytes.size(), " bytes)");
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (p[0] != 0 || p[1] != 0) {
    return bad("wrong magic number 0x",
               absl::Hex(BigEndian32(p), absl::kZeroPad8),
               " (expected 0x000008NN)");
  }
  if (p[2] != 0x08)
    return bad("unsupported element type 0x", absl::Hex(p[2]),
               " (only 0x08 u8)");
  const int rank = p[3];
  if (rank < 1 || rank > 4)
    return bad("unsupported number of dimensions ", rank);
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < header)
    return bad("truncated header (", bytes.size(), " bytes)");
  IdxFile out;
  out.path = std::string(name);
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    const int64_t d = BigEndian32(p + 4 + 4 * i);
    if (d == 0) return bad("dimension ", i, " is 0");
    if (d > kMaxIdxPayloadBytes || total * d > kMaxIdxPayloadBytes) {
      return bad("payload over ", kMaxIdxPayloadBytes, " bytes");
    }
    total *= d;
    out.dims.push_back(d);
  }
  const int64_t payload = static_cast<int64_t>(bytes.size() - header);
  if (payload < total)
    return bad("truncated: ", payload, " of ", total, " payload bytes");
  if (payload > total)
    return bad(payload - total, " unexpected trailing bytes");
  out.data.assign(p + header, p + header + total);
  return out;
}

absl::StatusOr<IdxFile> ReadIdxFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  auto bytes = ReadMaybeGzip(path, kMaxIdxPayloadBytes + 64);
  if (!bytes.ok()) return bytes.status();
  return ParseIdx(*bytes, path);
}

absl::StatusOr<IdxFile> ReadIdxFromDir(
    const std::string& dir, std::initializer_list<absl::string_view> bases) {
  std::vector<std::string> tried;
  for (absl::string_view base : bases) {
    for (const char* suffix : {".gz", ""}) {
      std::string path =
          (std::filesystem::path(dir) / absl::StrCat(base, suffix)).string();
      std::error_code ec;
      if (std::filesystem::exists(path, ec)) return ReadIdxFile(path);
      tried.push_back(std::move(path));
    }
  }
  return absl::NotFoundError(absl::StrCat("no MNIST IDX file found; tried ",
                                          absl::StrJoin(tried, ", ")));
}

absl::StatusOr<MnistIdx> ReadMnistIdx(const std::string& dir) {
  MnistIdx out;
  PROXFLOW_ASSIGN_OR_RETURN(out.images,
                            ReadIdxFromDir(dir, {"t10k-images-idx3-ubyte",
                                                 "train-images-idx3-ubyte"}));
  PROXFLOW_ASSIGN_OR_RETURN(out.labels,
                            ReadIdxFromDir(dir, {"t10k-labels-idx1-ubyte",
                                                 "train-labels-idx1-ubyte"}));
  const IdxFile& images = out.images;
  const IdxFile& labels = out.labels;
  if (images.dims.size() != 3 || images.dims[1] != 28 || images.dims[2] != 28) {
    return absl::InvalidArgumentError(
        absl::StrCat(images.path, ": expected N×28×28 images, got ",
                     images.dims.size(), " dims"));
  }
  if (labels.dims.size() != 1 || labels.dims[0] != images.dims[0]) {
    return absl::InvalidArgumentError(absl::StrCat(
        labels.path, ": ", labels.dims.empty() ? 0 : labels.dims[0],
        " labels for ", images.dims[0], " images in ", images.path));
  }
  return out;
}

}  // namespace proxflow::core
