#include "server/dataset_service.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "server/pagination.h"
#include "server/status_conversion.h"
#include "server/unary_call.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;

constexpr int kDefaultPageSize = 100;

// Receives one upload: a header, then chunks, written through as they come
// (one read in flight). Deletes itself in OnDone(); an unfinished upload is
// discarded with it.
class UploadReactor : public grpc::ServerReadReactor<pb::UploadDatasetRequest> {
 public:
  UploadReactor(DatasetStore* store, pb::Dataset* response)
      : store_(store), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    absl::Status status = ok ? Consume() : Complete();
    if (!ok || !status.ok()) {
      // Discard a failed upload's temp file before the client hears of it.
      upload_.reset();
      Finish(ToGrpcStatus(status));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Consume() {
    if (upload_ == nullptr) {
      if (!request_.has_header()) {
        return absl::InvalidArgumentError(
            "header: the first message of an upload must be the header");
      }
      PROXFLOW_ASSIGN_OR_RETURN(upload_,
                                store_->BeginUpload(request_.header()));
      return absl::OkStatus();
    }
    if (request_.has_header()) {
      return absl::InvalidArgumentError(
          "header: only the first message of an upload may be a header");
    }
    return upload_->Append(request_.chunk());
  }

  absl::Status Complete() {
    if (upload_ == nullptr) {
      return absl::InvalidArgumentError(
          "header: the upload ended before its header");
    }
    PROXFLOW_ASSIGN_OR_RETURN(*response_, upload_->Finish());
    return absl::OkStatus();
  }

  DatasetStore* const store_;
  pb::Dataset* const response_;
  pb::UploadDatasetRequest request_;
  std::unique_ptr<DatasetStore::Upload> upload_;
};

}  // namespace

grpc::ServerReadReactor<pb::UploadDatasetRequest>*
DatasetServiceImpl::UploadDataset(grpc::CallbackServerContext* /*context*/,
                                  pb::Dataset* response) {
  return new UploadReactor(store_, response);
}

grpc::ServerUnaryReactor* DatasetServiceImpl::ListDatasets(
    grpc::CallbackServerContext* context,
    const pb::ListDatasetsRequest* request,
    pb::ListDatasetsResponse* response) {
  return Respond(context, [&]() -> absl::Status {
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
  return Respond(context, [&]() -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(*response, store_->Get(request->name()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DatasetServiceImpl::DeleteDataset(
    grpc::CallbackServerContext* context,
    const pb::DeleteDatasetRequest* request,
    pb::DeleteDatasetResponse* /*response*/) {
  return Respond(context, [&]() -> absl::Status {
    return store_->Delete(request->name());
  });
}

}  // namespace proxflow::server
