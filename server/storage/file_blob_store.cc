#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/file_util.h"
#include "core/base/sha256.h"
#include "core/base/status_macros.h"
#include "server/storage/blob_store.h"

namespace proxflow::server {
namespace {

namespace fs = std::filesystem;

// Largest blob ReadVerified() loads (a checkpoint of the mnist preset is a few
// MB; this bounds memory against a corrupt size).
constexpr size_t kMaxVerifiedRead = size_t{4} << 30;

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("blob store: ", what, ": ", std::strerror(errno)));
}

absl::Status BadKey(absl::string_view key) {
  return absl::InvalidArgumentError(
      absl::StrCat("blob key must be 64 lowercase hex digits, got \"",
                   key.substr(0, 80), "\""));
}

class FileBlobStore : public BlobStore {
 public:
  explicit FileBlobStore(fs::path root) : root_(std::move(root)) {}

  fs::path PathOf(absl::string_view sha) const {
    return root_ / std::string(sha.substr(0, 2)) / std::string(sha);
  }

  class FileWriter : public Writer {
   public:
    FileWriter(const FileBlobStore* store, fs::path temp, int fd)
        : store_(store), temp_(std::move(temp)), fd_(fd) {}
    ~FileWriter() override {
      if (fd_ >= 0) ::close(fd_);
      std::error_code ec;
      if (!committed_) fs::remove(temp_, ec);
    }

    absl::Status Append(absl::string_view bytes) override {
      PROXFLOW_RETURN_IF_ERROR(WriteAll(fd_, bytes, temp_.string()));
      sha_.Update(bytes);
      size_ += static_cast<int64_t>(bytes.size());
      return absl::OkStatus();
    }

    absl::StatusOr<BlobInfo> Commit(absl::string_view expected,
                                    absl::string_view field) override {
      BlobInfo info{sha_.HexDigest(), size_};
      if (!expected.empty() && expected != info.sha256) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, " does not match the bytes received (",
                         info.sha256, "), got ", expected));
      }
      if (::fsync(fd_) != 0) return Errno("fsync");
      ::close(fd_);
      fd_ = -1;
      const fs::path target = store_->PathOf(info.sha256);
      std::error_code ec;
      fs::create_directories(target.parent_path(), ec);
      if (ec) return absl::InternalError("blob store: mkdir: " + ec.message());
      // Same content under the same key: renaming over it is harmless.
      fs::rename(temp_, target, ec);
      if (ec) return absl::InternalError("blob store: rename: " + ec.message());
      committed_ = true;
      const int dir =
          ::open(target.parent_path().c_str(), O_RDONLY | O_CLOEXEC);
      if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
      }
      return info;
    }

   private:
    const FileBlobStore* const store_;
    const fs::path temp_;
    int fd_;
    Sha256 sha_;
    int64_t size_ = 0;
    bool committed_ = false;
  };

  absl::StatusOr<std::unique_ptr<Writer>> NewWriter() override {
    absl::BitGen gen;
    const fs::path temp =
        root_ / "tmp" /
        absl::StrCat("blob-", absl::Uniform<uint64_t>(gen), ".tmp");
    const int fd =
        ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("create a staging file");
    return std::unique_ptr<Writer>(new FileWriter(this, temp, fd));
  }

  absl::StatusOr<int64_t> Size(absl::string_view sha) override {
    if (!IsSha256Hex(sha)) return BadKey(sha);
    std::error_code ec;
    const auto size = fs::file_size(PathOf(sha), ec);
    if (ec)
      return absl::NotFoundError(absl::StrCat("blob ", sha, " not found"));
    return static_cast<int64_t>(size);
  }

  absl::StatusOr<std::string> ReadRange(absl::string_view sha, int64_t offset,
                                        int64_t length) override {
    PROXFLOW_ASSIGN_OR_RETURN(int64_t size, Size(sha));
    if (offset < 0 || offset > size || length < 0) {
      return absl::OutOfRangeError(
          absl::StrCat("offset must be in [0, ", size, "], got ", offset));
    }
    std::ifstream in(PathOf(sha), std::ios::binary);
    in.seekg(offset);
    std::string out(static_cast<size_t>(std::min(length, size - offset)), '\0');
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    if (!in)
      return absl::DataLossError(absl::StrCat("blob ", sha, ": read failed"));
    return out;
  }

  absl::StatusOr<std::string> ReadVerified(absl::string_view sha) override {
    if (!IsSha256Hex(sha)) return BadKey(sha);
    absl::StatusOr<std::string> bytes =
        ReadFile(PathOf(sha).string(), kMaxVerifiedRead);
    if (absl::IsNotFound(bytes.status()))
      return absl::NotFoundError(absl::StrCat("blob ", sha, " not found"));
    PROXFLOW_RETURN_IF_ERROR(bytes.status());
    if (Sha256Hex(*bytes) != sha) {
      return absl::DataLossError(absl::StrCat(
          "blob ", sha, " is corrupt: its bytes no longer hash to its key"));
    }
    return bytes;
  }

  absl::Status Delete(absl::string_view sha) override {
    if (!IsSha256Hex(sha)) return BadKey(sha);
    std::error_code ec;
    fs::remove(PathOf(sha), ec);
    if (ec) return absl::InternalError("blob store: remove: " + ec.message());
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> List() override {
    std::vector<std::string> keys;
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(root_, ec)) {
      if (!dir.is_directory() || dir.path().filename() == "tmp") continue;
      for (const auto& f : fs::directory_iterator(dir.path(), ec)) {
        const std::string name = f.path().filename().string();
        if (IsSha256Hex(name)) keys.push_back(name);
      }
    }
    if (ec) return absl::InternalError("blob store: list: " + ec.message());
    std::sort(keys.begin(), keys.end());
    return keys;
  }

 private:
  const fs::path root_;
};

}  // namespace

absl::StatusOr<BlobInfo> BlobStore::Put(absl::string_view bytes) {
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Writer> writer, NewWriter());
  PROXFLOW_RETURN_IF_ERROR(writer->Append(bytes));
  return writer->Commit("", "");
}

absl::Status BlobStore::Verify(absl::string_view sha256) {
  constexpr int64_t kBlock = int64_t{4} << 20;
  PROXFLOW_ASSIGN_OR_RETURN(const int64_t size, Size(sha256));
  Sha256 digest;
  for (int64_t offset = 0; offset < size; offset += kBlock) {
    PROXFLOW_ASSIGN_OR_RETURN(std::string block,
                              ReadRange(sha256, offset, kBlock));
    digest.Update(block);
  }
  if (digest.HexDigest() != sha256) {
    return absl::DataLossError(absl::StrCat(
        "blob ", sha256, " is corrupt: its bytes no longer hash to its key"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BlobStore>> CreateFileBlobStore(
    const std::string& root) {
  std::error_code ec;
  const fs::path tmp = fs::path(root) / "tmp";
  fs::create_directories(tmp, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", tmp.string(), ": ", ec.message()));
  }
  // Staging files of writes a crash interrupted: never visible, now garbage.
  for (const auto& f : fs::directory_iterator(tmp, ec))
    fs::remove(f.path(), ec);
  return std::unique_ptr<BlobStore>(new FileBlobStore(fs::path(root)));
}

}  // namespace proxflow::server
