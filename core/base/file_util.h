// Durable file helpers. Torch-free; thread-safe (no shared state).
#ifndef PROXFLOW_CORE_BASE_FILE_UTIL_H_
#define PROXFLOW_CORE_BASE_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow {

// Writes `bytes` to `path` atomically: a temp file in the same directory,
// fsync, rename over `path`, fsync of the directory. Readers see the old file
// or the whole new one, never a torn one. Returns an error naming the path and
// the failing step.
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
