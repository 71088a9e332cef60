#include "server/status_conversion.h"

#include <string>

namespace proxflow::server {
namespace {

// absl::StatusCode and grpc::StatusCode share google.rpc.Code numbering
// (0..16); anything outside that range is UNKNOWN rather than a cast to an
// undefined enumerator.
constexpr int kMaxCanonicalCode = 16;

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  const auto grpc_code = code > 0 && code <= kMaxCanonicalCode
                             ? static_cast<grpc::StatusCode>(code)
                             : grpc::StatusCode::UNKNOWN;
  return grpc::Status(grpc_code, std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const int code = static_cast<int>(status.error_code());
  const auto absl_code = code > 0 && code <= kMaxCanonicalCode
                             ? static_cast<absl::StatusCode>(code)
                             : absl::StatusCode::kUnknown;
  return absl::Status(absl_code, status.error_message());
}

}  // namespace proxflow::server
