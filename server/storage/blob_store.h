// BlobStore: immutable, content-addressed byte blobs (checkpoint files), keyed
// by the lowercase hex SHA-256 of their contents.
//
// The interface lets an S3-compatible backend replace the local one without
// touching the registry or the handlers. Implementations are thread-safe. A
// blob is visible only once complete: writers stage, verify, then publish
// atomically, so a crash never leaves a half-written blob under its key.
#ifndef PROXFLOW_SERVER_STORAGE_BLOB_STORE_H_
#define PROXFLOW_SERVER_STORAGE_BLOB_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow::server {

struct BlobInfo {
  std::string sha256;
  int64_t size_bytes = 0;
};

class BlobStore {
 public:
  // A blob being written. Not thread-safe; destroying it before Commit()
  // discards the bytes.
  class Writer {
   public:
    virtual ~Writer() = default;
    virtual absl::Status Append(absl::string_view bytes) = 0;
    // Lowercase hex SHA-256 of the bytes appended so far; no Append() after
    // it (Commit() may follow).
    virtual const std::string& Sha256Hex() = 0;
    // Publishes the blob. With a non-empty `expected_sha256`, INVALID_ARGUMENT
    // naming `field` when the bytes hash differently (nothing is published).
    // Publishing content that already exists is a no-op returning its info.
    virtual absl::StatusOr<BlobInfo> Commit(absl::string_view expected_sha256,
                                            absl::string_view field) = 0;
  };

  virtual ~BlobStore() = default;

  virtual absl::StatusOr<std::unique_ptr<Writer>> NewWriter() = 0;
  // Stores `bytes` in one call.
  absl::StatusOr<BlobInfo> Put(absl::string_view bytes);

  // NOT_FOUND when no blob has that key.
  virtual absl::StatusOr<int64_t> Size(absl::string_view sha256) = 0;
  // Bytes [offset, offset + length) (fewer at the end). OUT_OF_RANGE when
  // offset is past the end.
  virtual absl::StatusOr<std::string> ReadRange(absl::string_view sha256,
                                                int64_t offset,
                                                int64_t length) = 0;
  // The whole blob, re-hashed: DATA_LOSS when the stored bytes no longer match
  // their key (disk corruption, tampering).
  virtual absl::StatusOr<std::string> ReadVerified(
      absl::string_view sha256) = 0;
  // Re-hashes a stored blob range by range (bounded memory): DATA_LOSS when
  // its bytes no longer match the key, NOT_FOUND when it is missing.
  absl::Status Verify(absl::string_view sha256);
  // Removes a blob; OK when it does not exist.
  virtual absl::Status Delete(absl::string_view sha256) = 0;
  // Every stored key (for garbage collection of unreferenced blobs).
  virtual absl::StatusOr<std::vector<std::string>> List() = 0;
};

// Blobs as files <root>/<first 2 hex>/<sha256>, staged in <root>/tmp.
// Create() makes the directories and removes staging files left by a crash.
absl::StatusOr<std::unique_ptr<BlobStore>> CreateFileBlobStore(
    const std::string& root);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_STORAGE_BLOB_STORE_H_
