// TrainingServiceImpl: the gRPC TrainingService. Stateless: every call goes to
// the JobManager, which must outlive the service. Thread-safe.
#ifndef PROXFLOW_SERVER_TRAINING_SERVICE_H_
#define PROXFLOW_SERVER_TRAINING_SERVICE_H_

#include "proxflow/v1/training_service.grpc.pb.h"
#include "server/auth/authorizer.h"
#include "server/job_manager.h"

namespace proxflow::server {

class TrainingServiceImpl final
    : public proxflow::v1::TrainingService::CallbackService {
 public:
  // `auth` (outliving the service) admits each call.
  TrainingServiceImpl(JobManager* manager, const Authorizer* auth)
      : manager_(manager), auth_(auth) {}

  grpc::ServerUnaryReactor* SubmitJob(
      grpc::CallbackServerContext* context,
      const proxflow::v1::SubmitJobRequest* request,
      proxflow::v1::SubmitJobResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const proxflow::v1::GetJobRequest* request,
                                   proxflow::v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(
      grpc::CallbackServerContext* context,
      const proxflow::v1::ListJobsRequest* request,
      proxflow::v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(
      grpc::CallbackServerContext* context,
      const proxflow::v1::CancelJobRequest* request,
      proxflow::v1::Job* response) override;
  grpc::ServerWriteReactor<proxflow::v1::JobEvent>* WatchJob(
      grpc::CallbackServerContext* context,
      const proxflow::v1::WatchJobRequest* request) override;

 private:
  JobManager* const manager_;
  const Authorizer* const auth_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_TRAINING_SERVICE_H_
