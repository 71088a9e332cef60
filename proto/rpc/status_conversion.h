// The one conversion between absl::Status and grpc::Status, at the RPC
// boundary.
//
// Codes map one to one (both follow google.rpc.Code). Messages pass through
// unchanged; callers never put stack traces or file contents into them.
// absl::Status payloads become google.rpc.Status details (type URL = payload
// key, e.g. RetryInfo under kRetryInfoTypeUrl) and come back the same way.
// Thread-safe.
#ifndef PROXFLOW_PROTO_RPC_STATUS_CONVERSION_H_
#define PROXFLOW_PROTO_RPC_STATUS_CONVERSION_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace proxflow::rpc {

inline constexpr char kRetryInfoTypeUrl[] =
    "type.googleapis.com/google.rpc.RetryInfo";

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace proxflow::rpc

#endif  // PROXFLOW_PROTO_RPC_STATUS_CONVERSION_H_
