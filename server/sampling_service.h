// SamplingService: the gRPC SamplingService over a Registry (resolves refs,
// reads checkpoints) and a SampleEngine (runs them), both of which must outlive
// it. Handlers are thin: validate and plan once, then a per-call reactor
// relays the engine's SampleStream to the client one write at a time.
// Thread-safe.
#ifndef PROXFLOW_SERVER_SAMPLING_SERVICE_H_
#define PROXFLOW_SERVER_SAMPLING_SERVICE_H_

#include "proxflow/v1/sampling_service.grpc.pb.h"
#include "server/auth/authorizer.h"
#include "server/registry/registry.h"
#include "server/sampling/sample_engine.h"
#include "server/sampling/sample_plan.h"

namespace proxflow::server {

class SamplingService final
    : public proxflow::v1::SamplingService::CallbackService {
 public:
  // `auth` (outliving the service) admits each call.
  SamplingService(Registry* registry, SampleEngine* engine,
                  SamplingLimits limits, const Authorizer* auth)
      : registry_(registry), engine_(engine), limits_(limits), auth_(auth) {}

  grpc::ServerWriteReactor<proxflow::v1::SampleEvent>* Sample(
      grpc::CallbackServerContext* context,
      const proxflow::v1::SampleRequest* request) override;
  grpc::ServerUnaryReactor* ListLoadedModels(
      grpc::CallbackServerContext* context,
      const proxflow::v1::ListLoadedModelsRequest* request,
      proxflow::v1::ListLoadedModelsResponse* response) override;

 private:
  Registry* const registry_;
  SampleEngine* const engine_;
  const SamplingLimits limits_;
  const Authorizer* const auth_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_SAMPLING_SERVICE_H_
