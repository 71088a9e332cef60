// UploadCheckpoint: sends checkpoint bytes to
// CheckpointRegistry.UploadCheckpoint (header with sha256 and size, then 1 MiB
// chunks). Torch-free; thread-safe (one call per stub at a time is not
// required: gRPC stubs are thread-safe).
#ifndef PROXFLOW_CLIENT_CHECKPOINT_UPLOAD_H_
#define PROXFLOW_CLIENT_CHECKPOINT_UPLOAD_H_

#include <string>

#include "absl/status/statusor.h"
#include "proxflow/v1/registry.grpc.pb.h"

namespace proxflow::client {

// The new version, or the server's error (as an absl::Status).
absl::StatusOr<proxflow::v1::Checkpoint> UploadCheckpoint(
    proxflow::v1::CheckpointRegistry::StubInterface& stub,
    const std::string& model, const std::string& bytes);

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_CHECKPOINT_UPLOAD_H_
