// SHA-256 digests (OpenSSL), for checkpoint and dataset integrity. Torch-free.
// A Sha256 object is not thread-safe; the free function is.
#ifndef PROXFLOW_CORE_BASE_SHA256_H_
#define PROXFLOW_CORE_BASE_SHA256_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow {

// Incremental digest: Update() any number of times, then HexDigest() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view bytes);
  // Lowercase hex of the digest (64 characters). Ends the computation.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(absl::string_view bytes);

// Lowercase hex SHA-256 of the file at `path`, read in 1 MiB blocks. NOT_FOUND
// when missing; DATA_LOSS on a read error.
absl::StatusOr<std::string> Sha256File(const std::string& path);

// True when `s` is 64 lowercase hex characters.
bool IsSha256Hex(absl::string_view s);

}  // namespace proxflow

#endif  // PROXFLOW_CORE_BASE_SHA256_H_
