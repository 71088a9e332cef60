#include "server/training_service.h"

#include "core/base/status_macros.h"
#include "server/unary_call.h"
#include "server/watch_job_reactor.h"

namespace proxflow::server {

namespace pb = proxflow::v1;

grpc::ServerUnaryReactor* TrainingServiceImpl::SubmitJob(
    grpc::CallbackServerContext* context, const pb::SubmitJobRequest* request,
    pb::SubmitJobResponse* response) {
  return Respond(context, auth_->Check(*context, Role::kTrainer),
                 [&]() -> absl::Status {
                   PROXFLOW_ASSIGN_OR_RETURN(JobManager::SubmitResult result,
                                             manager_->Submit(*request));
                   *response->mutable_job() = std::move(result.job);
                   response->set_created(result.created);
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TrainingServiceImpl::GetJob(
    grpc::CallbackServerContext* context, const pb::GetJobRequest* request,
    pb::Job* response) {
  return Respond(
      context, auth_->Check(*context, Role::kTrainer), [&]() -> absl::Status {
        PROXFLOW_ASSIGN_OR_RETURN(*response, manager_->Get(request->job_id()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TrainingServiceImpl::ListJobs(
    grpc::CallbackServerContext* context, const pb::ListJobsRequest* request,
    pb::ListJobsResponse* response) {
  return Respond(
      context, auth_->Check(*context, Role::kTrainer), [&]() -> absl::Status {
        PROXFLOW_ASSIGN_OR_RETURN(*response, manager_->List(*request));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TrainingServiceImpl::CancelJob(
    grpc::CallbackServerContext* context, const pb::CancelJobRequest* request,
    pb::Job* response) {
  return Respond(context, auth_->Check(*context, Role::kTrainer),
                 [&]() -> absl::Status {
                   PROXFLOW_ASSIGN_OR_RETURN(
                       *response, manager_->Cancel(request->job_id()));
                   return absl::OkStatus();
                 });
}

grpc::ServerWriteReactor<pb::JobEvent>* TrainingServiceImpl::WatchJob(
    grpc::CallbackServerContext* context, const pb::WatchJobRequest* request) {
  if (absl::Status s = auth_->Check(*context, Role::kTrainer); !s.ok())
    return new RefusedWriter<pb::JobEvent>(s);
  return WatchJobReactor::Start(manager_, *request);
}

}  // namespace proxflow::server
