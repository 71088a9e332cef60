// Respond(): the one way server handlers answer a unary callback RPC: run the
// handler body, convert its absl::Status once, finish. Also the refusal of
// calls that fail their admission check, unary and streaming.
#ifndef PROXFLOW_SERVER_UNARY_CALL_H_
#define PROXFLOW_SERVER_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include <utility>

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

// Respond() after an admission check (Authorizer::Check): a refused call
// finishes with that status and never runs `body`.
template <typename Body>
grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* context,
                                  const absl::Status& admitted, Body&& body) {
  if (!admitted.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(rpc::ToGrpcStatus(admitted));
    return reactor;
  }
  return Respond(context, std::forward<Body>(body));
}

// Streaming calls refused before they start: a reactor that finishes with
// `status` at once and deletes itself when gRPC is done with it.
template <typename Response>
class RefusedWriter final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RefusedWriter(const absl::Status& status) {
    this->Finish(rpc::ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

template <typename Request>
class RefusedReader final : public grpc::ServerReadReactor<Request> {
 public:
  explicit RefusedReader(const absl::Status& status) {
    this->Finish(rpc::ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_UNARY_CALL_H_
