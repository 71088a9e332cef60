// UploadCheckpointBytes: a checkpoint held in memory becomes a new version of
// `model`, over `channel` with default client options (benchmarks and tests).
// Torch-free; thread-safe.
#ifndef PROXFLOW_CLIENT_CHECKPOINT_UPLOAD_H_
#define PROXFLOW_CLIENT_CHECKPOINT_UPLOAD_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxflow/v1/registry.pb.h"

namespace proxflow::client {

absl::StatusOr<proxflow::v1::Checkpoint> UploadCheckpointBytes(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& model,
    absl::string_view bytes);

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_CHECKPOINT_UPLOAD_H_
