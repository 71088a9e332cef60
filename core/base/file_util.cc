#include "core/base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace proxflow {
namespace {

absl::Status Errno(absl::string_view step, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(step, " ", path, ": ", std::strerror(errno)));
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

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view bytes) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path()
                                        ? target.parent_path()
                                        : std::filesystem::path(".");
  std::string tmp =
      (dir / absl::StrCat(".", target.filename().string(), ".tmp.XXXXXX"))
          .string();
  const int fd = mkstemp(tmp.data());
  if (fd < 0) return Errno("creating a temp file for", path);
  // mkstemp creates 0600; published files are 0644. (Reading the umask would
  // mean setting it, which is process-wide and racy across threads.)
  ::fchmod(fd, 0644);
  if (absl::Status s = WriteAll(fd, bytes, tmp); !s.ok()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    absl::Status s = Errno("syncing", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("renaming into", path);
    ::unlink(tmp.c_str());
    return s;
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
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
