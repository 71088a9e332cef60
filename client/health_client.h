// HealthClient: the standard grpc.health.v1 service of proxflow-server.
// SERVING once storage is open and recovery is done; NOT_SERVING while it
// drains on SIGTERM. Torch-free; thread-safe (stateless over a Connection).
#ifndef PROXFLOW_CLIENT_HEALTH_CLIENT_H_
#define PROXFLOW_CLIENT_HEALTH_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace proxflow::client {

class HealthClient {
 public:
  explicit HealthClient(const Connection& connection);

  // The serving status of `service` ("" = the whole server, or e.g.
  // "proxflow.v1.SamplingService"). Not retried: callers poll.
  absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> Check(
      const std::string& service) const;

 private:
  const Connection& connection_;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
};

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_HEALTH_CLIENT_H_
