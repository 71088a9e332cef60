#include "client/upload.h"

#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/sha256.h"

namespace proxflow::client {
namespace {

class FileSource : public ChunkSource {
 public:
  FileSource(std::string path, int64_t size, std::string sha256)
      : path_(std::move(path)),
        size_(size),
        sha256_(std::move(sha256)),
        in_(path_, std::ios::binary) {}
  int64_t size() const override { return size_; }
  const std::string& sha256() const override { return sha256_; }
  absl::StatusOr<std::string> Next(size_t max) override {
    std::string chunk(max, '\0');
    in_.read(chunk.data(), static_cast<std::streamsize>(max));
    chunk.resize(static_cast<size_t>(in_.gcount()));
    if (in_.bad()) {
      return absl::DataLossError(
          absl::StrCat("reading \"", path_, "\" failed"));
    }
    read_ += static_cast<int64_t>(chunk.size());
    if (read_ > size_) {
      return absl::DataLossError(
          absl::StrCat("\"", path_, "\" grew while it was uploaded"));
    }
    return chunk;
  }
  bool opened() const { return in_.is_open(); }

 private:
  const std::string path_;
  const int64_t size_;
  const std::string sha256_;
  std::ifstream in_;
  int64_t read_ = 0;
};

class MemorySource : public ChunkSource {
 public:
  explicit MemorySource(absl::string_view bytes)
      : bytes_(bytes), sha256_(Sha256Hex(bytes)) {}
  int64_t size() const override { return static_cast<int64_t>(bytes_.size()); }
  const std::string& sha256() const override { return sha256_; }
  absl::StatusOr<std::string> Next(size_t max) override {
    std::string chunk(bytes_.substr(offset_, max));
    offset_ += chunk.size();
    return chunk;
  }

 private:
  const absl::string_view bytes_;
  const std::string sha256_;
  size_t offset_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ChunkSource>> FileChunks(
    const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  absl::StatusOr<std::string> sha =
      ec ? absl::StatusOr<std::string>(absl::NotFoundError(ec.message()))
         : Sha256File(path);
  if (!sha.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "file \"", path, "\" cannot be read: ", sha.status().message()));
  }
  auto source = std::make_unique<FileSource>(path, static_cast<int64_t>(size),
                                             *std::move(sha));
  if (!source->opened())
    return absl::InvalidArgumentError(
        absl::StrCat("file \"", path, "\" cannot be opened"));
  return source;
}

std::unique_ptr<ChunkSource> MemoryChunks(absl::string_view bytes) {
  return std::make_unique<MemorySource>(bytes);
}

}  // namespace proxflow::client
