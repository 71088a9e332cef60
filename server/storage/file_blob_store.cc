#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/error_text.h"
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

absl::Status BadKey(absl::string_view key) {
  return absl::InvalidArgumentError(absl::StrCat(
      "blob key must be 64 lowercase hex digits, got ", QuoteForError(key)));
}

class FileBlobStore : public BlobStore {
 public:
  explicit FileBlobStore(fs::path root) : root_(std::move(root)) {}

  fs::path PathOf(absl::string_view sha) const {
    return root_ / std::string(sha.substr(0, 2)) / std::string(sha);
  }

  class FileWriter : public Writer {
   public:
    FileWriter(const FileBlobStore* store, std::unique_ptr<StagedFile> staged)
        : store_(store), staged_(std::move(staged)) {}

    absl::Status Append(absl::string_view bytes) override {
      if (!digest_.empty())
        return absl::FailedPreconditionError("blob writer: already hashed");
      PROXFLOW_RETURN_IF_ERROR(staged_->Append(bytes));
      sha_.Update(bytes);
      return absl::OkStatus();
    }

    const std::string& Sha256Hex() override {
      if (digest_.empty()) digest_ = sha_.HexDigest();
      return digest_;
    }

    absl::StatusOr<BlobInfo> Commit(absl::string_view expected,
                                    absl::string_view field) override {
      BlobInfo info{Sha256Hex(), staged_->size()};
      if (!expected.empty() && expected != info.sha256) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, " does not match the bytes received (",
                         info.sha256, "), got ", expected));
      }
      const fs::path target = store_->PathOf(info.sha256);
      std::error_code ec;
      fs::create_directories(target.parent_path(), ec);
      if (ec) return absl::InternalError("blob store: mkdir: " + ec.message());
      // Same content under the same key: renaming over it is harmless.
      PROXFLOW_RETURN_IF_ERROR(staged_->Publish(target.string()));
      return info;
    }

   private:
    const FileBlobStore* const store_;
    const std::unique_ptr<StagedFile> staged_;
    Sha256 sha_;
    std::string digest_;
  };

  absl::StatusOr<std::unique_ptr<Writer>> NewWriter() override {
    PROXFLOW_ASSIGN_OR_RETURN(
        std::unique_ptr<StagedFile> staged,
        StagedFile::Create((root_ / "tmp").string(), "blob-"));
    return std::unique_ptr<Writer>(new FileWriter(this, std::move(staged)));
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
