// DatasetClient: typed calls of proxflow.v1.DatasetService. Torch-free.
// Thread-safe (stateless over a shared Connection).
#ifndef PROXFLOW_CLIENT_DATASET_CLIENT_H_
#define PROXFLOW_CLIENT_DATASET_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "client/upload.h"
#include "proxflow/v1/dataset_service.grpc.pb.h"

namespace proxflow::client {

class DatasetClient {
 public:
  explicit DatasetClient(const Connection& connection);

  absl::StatusOr<proxflow::v1::Dataset> Upload(
      const std::string& name, proxflow::v1::DatasetFormat format,
      ChunkSource& source, const std::string& description = "") const;
  absl::StatusOr<std::vector<proxflow::v1::Dataset>> List() const;
  absl::StatusOr<proxflow::v1::Dataset> Get(const std::string& name) const;
  absl::Status Delete(const std::string& name) const;

 private:
  const Connection& connection_;
  std::unique_ptr<proxflow::v1::DatasetService::Stub> stub_;
};

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_DATASET_CLIENT_H_
