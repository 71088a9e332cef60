#include "core/base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"

namespace proxflow {
namespace {

// A full disk or quota is RESOURCE_EXHAUSTED (the client may retry once space
// is freed); anything else is INTERNAL.
absl::Status Errno(absl::string_view step, const std::string& path) {
  const int e = errno;
  std::string message = absl::StrCat(step, " ", path, ": ", std::strerror(e));
  if (e == ENOSPC || e == EDQUOT) {
    return absl::ResourceExhaustedError(std::move(message));
  }
  return absl::InternalError(std::move(message));
}

}  // namespace

absl::Status WriteAll(int fd, absl::string_view bytes, absl::string_view what) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("writing", std::string(what));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StagedFile>> StagedFile::Create(
    const std::string& dir, absl::string_view prefix) {
  std::string temp =
      (std::filesystem::path(dir) / absl::StrCat(prefix, "XXXXXX")).string();
  const int fd = mkstemp(temp.data());
  if (fd < 0) return Errno("creating a temp file", temp);
  // mkstemp creates 0600; published files are 0644. (Reading the umask would
  // mean setting it, which is process-wide and racy across threads.)
  ::fchmod(fd, 0644);
  return std::unique_ptr<StagedFile>(new StagedFile(std::move(temp), fd));
}

StagedFile::~StagedFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!published_) ::unlink(temp_.c_str());
}

absl::Status StagedFile::Append(absl::string_view bytes) {
  if (fd_ < 0) return absl::FailedPreconditionError(temp_ + " is closed");
  PROXFLOW_RETURN_IF_ERROR(WriteAll(fd_, bytes, temp_));
  size_ += static_cast<int64_t>(bytes.size());
  return absl::OkStatus();
}

absl::Status StagedFile::Sync() {
  if (fd_ < 0) return absl::OkStatus();
  const bool ok = ::fsync(fd_) == 0;
  const bool closed = ::close(fd_) == 0;
  fd_ = -1;
  if (!ok || !closed) return Errno("syncing", temp_);
  return absl::OkStatus();
}

absl::Status StagedFile::Publish(const std::string& path) {
  PROXFLOW_RETURN_IF_ERROR(Sync());
  if (std::rename(temp_.c_str(), path.c_str()) != 0)
    return Errno("renaming into", path);
  published_ = true;
  const std::filesystem::path target(path);
  const std::filesystem::path dir =
      target.has_parent_path() ? target.parent_path() : ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view bytes) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir =
      target.has_parent_path() ? target.parent_path() : ".";
  PROXFLOW_ASSIGN_OR_RETURN(
      std::unique_ptr<StagedFile> staged,
      StagedFile::Create(
          dir.string(),
          absl::StrCat(".", target.filename().string(), ".tmp.")));
  PROXFLOW_RETURN_IF_ERROR(staged->Append(bytes));
  return staged->Publish(path);
}

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     size_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return absl::NotFoundError(absl::StrCat(path, ": ", ec.message()));
  if (size > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        path, ": ", size, " bytes exceeds the limit of ", max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::string out(size, '\0');
  if (!in.read(out.data(), static_cast<std::streamsize>(size))) {
    return absl::DataLossError(absl::StrCat(path, ": short read"));
  }
  return out;
}

}  // namespace proxflow
