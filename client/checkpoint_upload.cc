#include "client/checkpoint_upload.h"

#include "client/connection.h"
#include "client/registry_client.h"
#include "client/upload.h"

namespace proxflow::client {

absl::StatusOr<proxflow::v1::Checkpoint> UploadCheckpointBytes(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& model,
    absl::string_view bytes) {
  Connection connection(channel, ClientOptions());
  auto source = MemoryChunks(bytes);
  UploadInfo info;
  info.model = model;
  return RegistryClient(connection).Upload(info, *source);
}

}  // namespace proxflow::client
