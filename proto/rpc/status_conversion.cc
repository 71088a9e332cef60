#include "proto/rpc/status_conversion.h"

#include <string>

#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"

namespace proxflow::rpc {
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
  std::string message(status.message());
  // Payloads travel as google.rpc.Status details (type URL and bytes kept).
  google::rpc::Status details;
  status.ForEachPayload(
      [&](absl::string_view type_url, const absl::Cord& value) {
        google::protobuf::Any* any = details.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(std::string(value));
      });
  if (details.details_size() == 0) return grpc::Status(grpc_code, message);
  details.set_code(static_cast<int>(grpc_code));
  details.set_message(message);
  return grpc::Status(grpc_code, message, details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const int code = static_cast<int>(status.error_code());
  const auto absl_code = code > 0 && code <= kMaxCanonicalCode
                             ? static_cast<absl::StatusCode>(code)
                             : absl::StatusCode::kUnknown;
  absl::Status out(absl_code, status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details())
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
  }
  return out;
}

}  // namespace proxflow::rpc
