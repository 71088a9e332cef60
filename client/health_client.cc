#include "client/health_client.h"

#include "client/unary.h"

namespace proxflow::client {

namespace hpb = grpc::health::v1;

HealthClient::HealthClient(const Connection& connection)
    : connection_(connection),
      stub_(hpb::Health::NewStub(connection.channel())) {}

absl::StatusOr<hpb::HealthCheckResponse::ServingStatus> HealthClient::Check(
    const std::string& service) const {
  hpb::HealthCheckRequest request;
  request.set_service(service);
  absl::StatusOr<hpb::HealthCheckResponse> response =
      CallUnary<hpb::HealthCheckResponse>(
          connection_,
          [&](auto* c, auto* r) { return stub_->Check(c, request, r); },
          Idempotent::kNo);
  if (!response.ok()) return response.status();
  return response->status();
}

}  // namespace proxflow::client
