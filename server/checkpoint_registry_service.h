// CheckpointRegistryService: the gRPC CheckpointRegistry over a Registry, which
// must outlive it. Stateless apart from per-transfer reactors. Thread-safe.
#ifndef PROXFLOW_SERVER_CHECKPOINT_REGISTRY_SERVICE_H_
#define PROXFLOW_SERVER_CHECKPOINT_REGISTRY_SERVICE_H_

#include "proxflow/v1/registry.grpc.pb.h"
#include "server/auth/authorizer.h"
#include "server/registry/registry.h"

namespace proxflow::server {

class CheckpointRegistryService final
    : public proxflow::v1::CheckpointRegistry::CallbackService {
 public:
  // `auth` (outliving the service) admits each call.
  CheckpointRegistryService(Registry* registry, const Authorizer* auth)
      : registry_(registry), auth_(auth) {}

  grpc::ServerUnaryReactor* ListModels(
      grpc::CallbackServerContext* context,
      const proxflow::v1::ListModelsRequest* request,
      proxflow::v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* ListCheckpoints(
      grpc::CallbackServerContext* context,
      const proxflow::v1::ListCheckpointsRequest* request,
      proxflow::v1::ListCheckpointsResponse* response) override;
  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* context,
      const proxflow::v1::GetCheckpointRequest* request,
      proxflow::v1::Checkpoint* response) override;
  grpc::ServerUnaryReactor* SetAlias(
      grpc::CallbackServerContext* context,
      const proxflow::v1::SetAliasRequest* request,
      proxflow::v1::SetAliasResponse* response) override;
  grpc::ServerUnaryReactor* DeleteAlias(
      grpc::CallbackServerContext* context,
      const proxflow::v1::DeleteAliasRequest* request,
      proxflow::v1::DeleteAliasResponse* response) override;
  grpc::ServerUnaryReactor* ListAliasHistory(
      grpc::CallbackServerContext* context,
      const proxflow::v1::ListAliasHistoryRequest* request,
      proxflow::v1::ListAliasHistoryResponse* response) override;
  grpc::ServerUnaryReactor* UpdateCheckpoint(
      grpc::CallbackServerContext* context,
      const proxflow::v1::UpdateCheckpointRequest* request,
      proxflow::v1::Checkpoint* response) override;
  grpc::ServerUnaryReactor* DeleteCheckpoint(
      grpc::CallbackServerContext* context,
      const proxflow::v1::DeleteCheckpointRequest* request,
      proxflow::v1::Checkpoint* response) override;
  grpc::ServerReadReactor<proxflow::v1::UploadCheckpointRequest>*
  UploadCheckpoint(grpc::CallbackServerContext* context,
                   proxflow::v1::Checkpoint* response) override;
  grpc::ServerWriteReactor<proxflow::v1::DownloadCheckpointResponse>*
  DownloadCheckpoint(
      grpc::CallbackServerContext* context,
      const proxflow::v1::DownloadCheckpointRequest* request) override;
  grpc::ServerUnaryReactor* PreviewGc(grpc::CallbackServerContext* context,
                                      const proxflow::v1::GcRequest* request,
                                      proxflow::v1::GcPlan* response) override;
  grpc::ServerUnaryReactor* RunGc(grpc::CallbackServerContext* context,
                                  const proxflow::v1::GcRequest* request,
                                  proxflow::v1::GcPlan* response) override;

 private:
  Registry* const registry_;
  const Authorizer* const auth_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_CHECKPOINT_REGISTRY_SERVICE_H_
