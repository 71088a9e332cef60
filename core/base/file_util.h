// Durable file helpers. Torch-free; thread-safe (no shared state).
#ifndef PROXFLOW_CORE_BASE_FILE_UTIL_H_
#define PROXFLOW_CORE_BASE_FILE_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow {

// A file written in pieces under a temporary name and published atomically:
// fsync, rename to its final path, fsync of the directory. Readers of the final
// path see the old file or the whole new one, never a torn one. Destroying it
// unpublished removes the temporary file. Errors name the path and the failing
// step. Not thread-safe (one writer).
class StagedFile {
 public:
  // Creates <dir>/<prefix>XXXXXX, mode 0644.
  static absl::StatusOr<std::unique_ptr<StagedFile>> Create(
      const std::string& dir, absl::string_view prefix);
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  absl::Status Append(absl::string_view bytes);
  // fsync and close: the contents are durable at temp_path() (to inspect them
  // before publishing). No Append() after it.
  absl::Status Sync();
  // Sync() when not done yet, rename to `path` (on the same file system; its
  // directory must exist), fsync of that directory.
  absl::Status Publish(const std::string& path);

  int64_t size() const { return size_; }
  const std::string& temp_path() const { return temp_; }

 private:
  StagedFile(std::string temp, int fd) : temp_(std::move(temp)), fd_(fd) {}

  const std::string temp_;
  int fd_;
  int64_t size_ = 0;
  bool published_ = false;
};

// Writes `bytes` to `path` atomically through a StagedFile in the same
// directory.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view bytes);

// Writes all of `bytes` to `fd`, retrying short writes and EINTR. Errors name
// `what` (a path or a description) and errno's text.
absl::Status WriteAll(int fd, absl::string_view bytes, absl::string_view what);

// Reads a whole file. NOT_FOUND when missing; RESOURCE_EXHAUSTED above
// `max_bytes`.
absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes);

}  // namespace proxflow

#endif  // PROXFLOW_CORE_BASE_FILE_UTIL_H_
