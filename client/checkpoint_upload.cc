#include "client/checkpoint_upload.h"

#include <grpcpp/grpcpp.h>

#include "core/base/sha256.h"

namespace proxflow::client {

absl::StatusOr<proxflow::v1::Checkpoint> UploadCheckpoint(
    proxflow::v1::CheckpointRegistry::StubInterface& stub,
    const std::string& model, const std::string& bytes) {
  constexpr size_t kChunk = size_t{1} << 20;
  grpc::ClientContext context;
  proxflow::v1::Checkpoint uploaded;
  auto writer = stub.UploadCheckpoint(&context, &uploaded);
  proxflow::v1::UploadCheckpointRequest r;
  r.mutable_header()->set_model(model);
  r.mutable_header()->set_sha256(Sha256Hex(bytes));
  r.mutable_header()->set_size_bytes(static_cast<int64_t>(bytes.size()));
  bool open = writer->Write(r);
  for (size_t i = 0; open && i < bytes.size(); i += kChunk) {
    r.set_chunk(bytes.substr(i, kChunk));
    open = writer->Write(r);
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return uploaded;
}

}  // namespace proxflow::client
