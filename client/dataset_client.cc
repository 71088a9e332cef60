#include "client/dataset_client.h"

#include "client/unary.h"

namespace proxflow::client {

namespace pb = proxflow::v1;

DatasetClient::DatasetClient(const Connection& connection)
    : connection_(connection),
      stub_(pb::DatasetService::NewStub(connection.channel())) {}

absl::StatusOr<pb::Dataset> DatasetClient::Upload(
    const std::string& name, pb::DatasetFormat format, ChunkSource& source,
    const std::string& description) const {
  pb::UploadDatasetRequest request;
  pb::UploadDatasetHeader* header = request.mutable_header();
  header->set_name(name);
  header->set_format(format);
  header->set_sha256(source.sha256());
  header->set_size_bytes(source.size());
  header->set_description(description);
  return StreamUpload<pb::UploadDatasetRequest, pb::Dataset>(
      connection_, [&](auto* c, auto* r) { return stub_->UploadDataset(c, r); },
      std::move(request), source);
}

absl::StatusOr<std::vector<pb::Dataset>> DatasetClient::List() const {
  return CollectPages<pb::Dataset, pb::ListDatasetsResponse>(
      connection_, pb::ListDatasetsRequest(),
      [&](auto* c, const auto& q, auto* r) {
        return stub_->ListDatasets(c, q, r);
      },
      [](auto* r) { return r->mutable_datasets(); });
}

absl::StatusOr<pb::Dataset> DatasetClient::Get(const std::string& name) const {
  pb::GetDatasetRequest request;
  request.set_name(name);
  return CallUnary<pb::Dataset>(connection_, [&](auto* c, auto* r) {
    return stub_->GetDataset(c, request, r);
  });
}

absl::Status DatasetClient::Delete(const std::string& name) const {
  pb::DeleteDatasetRequest request;
  request.set_name(name);
  return CallUnary<pb::DeleteDatasetResponse>(connection_,
                                              [&](auto* c, auto* r) {
                                                return stub_->DeleteDataset(
                                                    c, request, r);
                                              })
      .status();
}

}  // namespace proxflow::client
