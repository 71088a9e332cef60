// DatasetServiceImpl: the gRPC DatasetService over a DatasetStore, which must
// outlive it. Stateless apart from per-upload reactors. Thread-safe.
#ifndef PROXFLOW_SERVER_DATASET_SERVICE_H_
#define PROXFLOW_SERVER_DATASET_SERVICE_H_

#include "proxflow/v1/dataset_service.grpc.pb.h"
#include "server/auth/authorizer.h"
#include "server/storage/dataset_store.h"

namespace proxflow::server {

class DatasetServiceImpl final
    : public proxflow::v1::DatasetService::CallbackService {
 public:
  // `auth` (outliving the service) admits each call.
  DatasetServiceImpl(DatasetStore* store, const Authorizer* auth)
      : store_(store), auth_(auth) {}

  grpc::ServerReadReactor<proxflow::v1::UploadDatasetRequest>* UploadDataset(
      grpc::CallbackServerContext* context,
      proxflow::v1::Dataset* response) override;
  grpc::ServerUnaryReactor* ListDatasets(
      grpc::CallbackServerContext* context,
      const proxflow::v1::ListDatasetsRequest* request,
      proxflow::v1::ListDatasetsResponse* response) override;
  grpc::ServerUnaryReactor* GetDataset(
      grpc::CallbackServerContext* context,
      const proxflow::v1::GetDatasetRequest* request,
      proxflow::v1::Dataset* response) override;
  grpc::ServerUnaryReactor* DeleteDataset(
      grpc::CallbackServerContext* context,
      const proxflow::v1::DeleteDatasetRequest* request,
      proxflow::v1::DeleteDatasetResponse* response) override;

 private:
  DatasetStore* const store_;
  const Authorizer* const auth_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_DATASET_SERVICE_H_
