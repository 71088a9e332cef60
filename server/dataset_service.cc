#include "server/dataset_service.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "proto/rpc/status_conversion.h"
#include "server/pagination.h"
#include "server/unary_call.h"
#include "server/upload_reactor.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;

constexpr int kDefaultPageSize = 100;

}  // namespace

grpc::ServerReadReactor<pb::UploadDatasetRequest>*
DatasetServiceImpl::UploadDataset(grpc::CallbackServerContext* context,
                                  pb::Dataset* response) {
  if (absl::Status s = auth_->Check(*context, Role::kTrainer); !s.ok())
    return new RefusedReader<pb::UploadDatasetRequest>(s);
  return new UploadReactor<pb::UploadDatasetRequest, pb::Dataset,
                           DatasetStore::Upload>(
      [store = store_](const pb::UploadDatasetHeader& header) {
        return store->BeginUpload(header);
      },
      response);
}

grpc::ServerUnaryReactor* DatasetServiceImpl::ListDatasets(
    grpc::CallbackServerContext* context,
    const pb::ListDatasetsRequest* request,
    pb::ListDatasetsResponse* response) {
  return Respond(context, auth_->Check(*context, Role::kTrainer),
                 [&]() -> absl::Status {
                   PROXFLOW_ASSIGN_OR_RETURN(
                       const int limit,
                       ResolvePageSize(request->page_size(), kDefaultPageSize));
                   PROXFLOW_ASSIGN_OR_RETURN(
                       const std::string after,
                       DecodePageToken("ListDatasets", request->page_token()));
                   PROXFLOW_ASSIGN_OR_RETURN(DatasetStore::Page page,
                                             store_->List(after, limit));
                   for (pb::Dataset& d : page.datasets)
                     *response->add_datasets() = std::move(d);
                   if (!page.next_after.empty()) {
                     response->set_next_page_token(
                         EncodePageToken("ListDatasets", page.next_after));
                   }
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* DatasetServiceImpl::GetDataset(
    grpc::CallbackServerContext* context, const pb::GetDatasetRequest* request,
    pb::Dataset* response) {
  return Respond(
      context, auth_->Check(*context, Role::kTrainer), [&]() -> absl::Status {
        PROXFLOW_ASSIGN_OR_RETURN(*response, store_->Get(request->name()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* DatasetServiceImpl::DeleteDataset(
    grpc::CallbackServerContext* context,
    const pb::DeleteDatasetRequest* request,
    pb::DeleteDatasetResponse* /*response*/) {
  return Respond(
      context, auth_->Check(*context, Role::kAdmin),
      [&]() -> absl::Status { return store_->Delete(request->name()); });
}

}  // namespace proxflow::server
