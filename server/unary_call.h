// Respond(): the one way server handlers answer a unary callback RPC: run the
// handler body, convert its absl::Status once, finish.
#ifndef PROXFLOW_SERVER_UNARY_CALL_H_
#define PROXFLOW_SERVER_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "proto/rpc/status_conversion.h"

namespace proxflow::server {

template <typename Body>
grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* context,
                                  Body&& body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Status status = body();
  reactor->Finish(rpc::ToGrpcStatus(status));
  return reactor;
}

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_UNARY_CALL_H_
