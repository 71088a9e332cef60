// SamplingClient: typed calls of proxflow.v1.SamplingService. Sample()
// reassembles each item from its chunks and checks its size and sha256 before
// handing it over. Torch-free. Thread-safe (stateless over a shared
// Connection); handlers run on the calling thread.
#ifndef PROXFLOW_CLIENT_SAMPLING_CLIENT_H_
#define PROXFLOW_CLIENT_SAMPLING_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "proxflow/v1/sampling_service.grpc.pb.h"

namespace proxflow::client {

struct SampleItemData {
  proxflow::v1::ImageDone
      done;           // kind/index/count/step, seeds, shape, encoding
  std::string bytes;  // verified against done.sha256
};

struct SampleHandlers {
  std::function<void(const proxflow::v1::SampleAccepted&)> on_accepted;
  std::function<void(const proxflow::v1::SampleProgress&)> on_progress;
  // Required. An error stops the call (it is cancelled) and is returned.
  std::function<absl::Status(SampleItemData)> on_item;
};

class SamplingClient {
 public:
  explicit SamplingClient(const Connection& connection);

  // The summary once every item was delivered. A call that fails UNAVAILABLE
  // before its first event is sent again (sampling changes nothing on the
  // server); DATA_LOSS when an item's bytes disagree with its size or sha256.
  absl::StatusOr<proxflow::v1::SampleSummary> Sample(
      const proxflow::v1::SampleRequest& request,
      const SampleHandlers& handlers) const;
  absl::StatusOr<proxflow::v1::ListLoadedModelsResponse> ListLoaded() const;

 private:
  const Connection& connection_;
  std::unique_ptr<proxflow::v1::SamplingService::Stub> stub_;
};

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_SAMPLING_CLIENT_H_
