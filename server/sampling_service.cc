#include "server/sampling_service.h"

#include <memory>

#include "absl/random/random.h"
#include "core/base/status_macros.h"
#include "proto/rpc/status_conversion.h"
#include "server/unary_call.h"

namespace proxflow::server {
namespace {

namespace pb = ::proxflow::v1;

// Relays one SampleStream to the client. Owns itself (self_) until gRPC calls
// OnDone; the stream's waker holds a weak reference, so engine threads never
// touch a finished reactor. At most one write is outstanding; StartWrite and
// Finish are called without holding mu_.
class SampleReactor : public grpc::ServerWriteReactor<pb::SampleEvent>,
                      public std::enable_shared_from_this<SampleReactor> {
 public:
  static SampleReactor* Start(Registry* registry, SampleEngine* engine,
                              const SamplingLimits& limits,
                              const pb::SampleRequest& request) {
    auto reactor = std::make_shared<SampleReactor>();
    reactor->self_ = reactor;
    std::weak_ptr<SampleReactor> weak = reactor;
    reactor->stream_ = std::make_shared<SampleStream>([weak] {
      if (auto r = weak.lock()) r->Pump();
    });
    const absl::Status status =
        reactor->Submit(registry, engine, limits, request);
    if (!status.ok()) {
      {
        absl::MutexLock lock(&reactor->mu_);
        reactor->finished_ = true;
      }
      reactor->Finish(rpc::ToGrpcStatus(status));
    } else {
      reactor->Pump();
    }
    return reactor.get();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) finished_ = true;
    }
    if (!ok) {  // the client went away
      stream_->Cancel();
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "sample cancelled"));
      return;
    }
    Pump();
  }

  void OnCancel() override {  // client cancel or deadline
    stream_->Cancel();
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;  // OnWriteDone(false) finishes
      finished_ = true;
    }
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "sample cancelled"));
  }

  void OnDone() override { self_.reset(); }

  // Writes the next event, or finishes once the stream is closed and drained.
  void Pump() {
    absl::Status final_status;
    SampleStream::PopResult popped;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      popped = stream_->Pop(&current_, &final_status);
      if (popped == SampleStream::PopResult::kEmpty) return;  // waker calls
      writing_ = popped == SampleStream::PopResult::kEvent;
      finished_ = !writing_;
    }
    if (popped == SampleStream::PopResult::kEvent) {
      StartWrite(&current_);
    } else {
      Finish(rpc::ToGrpcStatus(final_status));
    }
  }

 private:
  absl::Status Submit(Registry* registry, SampleEngine* engine,
                      const SamplingLimits& limits,
                      const pb::SampleRequest& request) {
    PROXFLOW_RETURN_IF_ERROR(ValidateSampleRequest(request, limits));
    PROXFLOW_ASSIGN_OR_RETURN(
        pb::Checkpoint checkpoint,
        registry->ResolveReady(request.model_ref(), "sample.model_ref"));
    absl::BitGen seeds;
    PROXFLOW_ASSIGN_OR_RETURN(SamplePlan plan,
                              PlanSample(request, checkpoint, limits, seeds));
    return engine->Submit(std::move(plan), stream_);
  }

  std::shared_ptr<SampleReactor> self_;
  std::shared_ptr<SampleStream> stream_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  pb::SampleEvent current_;
};

}  // namespace

grpc::ServerWriteReactor<pb::SampleEvent>* SamplingService::Sample(
    grpc::CallbackServerContext* context, const pb::SampleRequest* request) {
  if (absl::Status s = auth_->Check(*context, Role::kSampler); !s.ok())
    return new RefusedWriter<pb::SampleEvent>(s);
  return SampleReactor::Start(registry_, engine_, limits_, *request);
}

grpc::ServerUnaryReactor* SamplingService::ListLoadedModels(
    grpc::CallbackServerContext* context,
    const pb::ListLoadedModelsRequest* /*request*/,
    pb::ListLoadedModelsResponse* response) {
  return Respond(context, auth_->Check(*context, Role::kSampler), [&] {
    *response = engine_->LoadedModels();
    return absl::OkStatus();
  });
}

}  // namespace proxflow::server
