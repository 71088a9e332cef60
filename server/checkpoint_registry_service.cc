#include "server/checkpoint_registry_service.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "proto/rpc/status_conversion.h"
#include "server/unary_call.h"
#include "server/upload_reactor.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;

// Assigns a handler's StatusOr result to the response.
template <typename Message>
absl::Status Assign(absl::StatusOr<Message> result, Message* response) {
  PROXFLOW_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return absl::OkStatus();
}

// Streams one download: the header, then chunks from the requested offset,
// one write in flight (a slow client holds one chunk of memory). Deletes
// itself in OnDone().
class DownloadReactor
    : public grpc::ServerWriteReactor<pb::DownloadCheckpointResponse> {
 public:
  DownloadReactor(Registry* registry, const pb::DownloadCheckpointRequest& r)
      : registry_(registry) {
    absl::Status status = Begin(r);
    if (!status.ok()) {
      Finish(rpc::ToGrpcStatus(status));
      return;
    }
    *response_.mutable_header() = checkpoint_;
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {  // the client went away
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "download cancelled"));
      return;
    }
    if (offset_ >= checkpoint_.files(0).size_bytes()) {
      Finish(grpc::Status::OK);
      return;
    }
    absl::StatusOr<std::string> bytes =
        registry_->ReadRange(checkpoint_, offset_, chunk_bytes_);
    if (!bytes.ok()) {
      Finish(rpc::ToGrpcStatus(bytes.status()));
      return;
    }
    response_.Clear();
    pb::DownloadChunk* chunk = response_.mutable_chunk();
    chunk->set_offset(offset_);
    offset_ += static_cast<int64_t>(bytes->size());
    *chunk->mutable_data() = *std::move(bytes);
    StartWrite(&response_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Begin(const pb::DownloadCheckpointRequest& r) {
    if (r.chunk_size_bytes() < 0 || r.chunk_size_bytes() > kMaxChunkBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "chunk_size_bytes must be in [0, ", kMaxChunkBytes, "] (0 means ",
          kMaxChunkBytes, "), got ", r.chunk_size_bytes()));
    }
    chunk_bytes_ =
        r.chunk_size_bytes() == 0 ? kMaxChunkBytes : r.chunk_size_bytes();
    PROXFLOW_ASSIGN_OR_RETURN(checkpoint_, registry_->BeginDownload(r));
    offset_ = r.offset();
    return absl::OkStatus();
  }

  Registry* const registry_;
  pb::Checkpoint checkpoint_;
  int64_t offset_ = 0;
  int64_t chunk_bytes_ = kMaxChunkBytes;
  pb::DownloadCheckpointResponse response_;
};

}  // namespace

grpc::ServerUnaryReactor* CheckpointRegistryService::ListModels(
    grpc::CallbackServerContext* context, const pb::ListModelsRequest* request,
    pb::ListModelsResponse* response) {
  return Respond(context, auth_->Check(*context, Role::kSampler), [&] {
    return Assign(registry_->ListModels(*request), response);
  });
}

grpc::ServerUnaryReactor* CheckpointRegistryService::ListCheckpoints(
    grpc::CallbackServerContext* context,
    const pb::ListCheckpointsRequest* request,
    pb::ListCheckpointsResponse* response) {
  return Respond(context, auth_->Check(*context, Role::kSampler), [&] {
    return Assign(registry_->ListCheckpoints(*request), response);
  });
}

grpc::ServerUnaryReactor* CheckpointRegistryService::GetCheckpoint(
    grpc::CallbackServerContext* context,
    const pb::GetCheckpointRequest* request, pb::Checkpoint* response) {
  return Respond(context, auth_->Check(*context, Role::kSampler), [&] {
    return Assign(registry_->Resolve(request->ref(), "ref"), response);
  });
}

grpc::ServerUnaryReactor* CheckpointRegistryService::SetAlias(
    grpc::CallbackServerContext* context, const pb::SetAliasRequest* request,
    pb::SetAliasResponse* response) {
  return Respond(context, auth_->Check(*context, Role::kAdmin), [&] {
    return Assign(registry_->SetAlias(*request), response);
  });
}

grpc::ServerUnaryReactor* CheckpointRegistryService::DeleteAlias(
    grpc::CallbackServerContext* context, const pb::DeleteAliasRequest* request,
    pb::DeleteAliasResponse* response) {
  return Respond(context, auth_->Check(*context, Role::kAdmin), [&] {
    return Assign(registry_->DeleteAlias(*request), response);
  });
}

grpc::ServerUnaryReactor* CheckpointRegistryService::ListAliasHistory(
    grpc::CallbackServerContext* context,
    const pb::ListAliasHistoryRequest* request,
    pb::ListAliasHistoryResponse* response) {
  return Respond(context, auth_->Check(*context, Role::kSampler), [&] {
    return Assign(registry_->ListAliasHistory(*request), response);
  });
}

grpc::ServerUnaryReactor* CheckpointRegistryService::UpdateCheckpoint(
    grpc::CallbackServerContext* context,
    const pb::UpdateCheckpointRequest* request, pb::Checkpoint* response) {
  return Respond(context, auth_->Check(*context, Role::kTrainer),
                 [&] { return Assign(registry_->Update(*request), response); });
}

grpc::ServerUnaryReactor* CheckpointRegistryService::DeleteCheckpoint(
    grpc::CallbackServerContext* context,
    const pb::DeleteCheckpointRequest* request, pb::Checkpoint* response) {
  return Respond(context, auth_->Check(*context, Role::kAdmin),
                 [&] { return Assign(registry_->Delete(*request), response); });
}

grpc::ServerReadReactor<pb::UploadCheckpointRequest>*
CheckpointRegistryService::UploadCheckpoint(
    grpc::CallbackServerContext* context, pb::Checkpoint* response) {
  if (absl::Status s = auth_->Check(*context, Role::kTrainer); !s.ok())
    return new RefusedReader<pb::UploadCheckpointRequest>(s);
  return new UploadReactor<pb::UploadCheckpointRequest, pb::Checkpoint,
                           Registry::Upload>(
      [registry = registry_](const pb::UploadCheckpointHeader& header) {
        return registry->BeginUpload(header);
      },
      response);
}

grpc::ServerWriteReactor<pb::DownloadCheckpointResponse>*
CheckpointRegistryService::DownloadCheckpoint(
    grpc::CallbackServerContext* context,
    const pb::DownloadCheckpointRequest* request) {
  if (absl::Status s = auth_->Check(*context, Role::kSampler); !s.ok())
    return new RefusedWriter<pb::DownloadCheckpointResponse>(s);
  return new DownloadReactor(registry_, *request);
}

grpc::ServerUnaryReactor* CheckpointRegistryService::PreviewGc(
    grpc::CallbackServerContext* context, const pb::GcRequest* request,
    pb::GcPlan* response) {
  return Respond(context, auth_->Check(*context, Role::kSampler), [&] {
    return Assign(registry_->Gc(*request, /*dry_run=*/true), response);
  });
}

grpc::ServerUnaryReactor* CheckpointRegistryService::RunGc(
    grpc::CallbackServerContext* context, const pb::GcRequest* request,
    pb::GcPlan* response) {
  return Respond(context, auth_->Check(*context, Role::kAdmin), [&] {
    return Assign(registry_->Gc(*request, /*dry_run=*/false), response);
  });
}

}  // namespace proxflow::server
