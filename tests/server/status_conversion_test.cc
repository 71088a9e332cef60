// Table test over every canonical code, both directions.
#include "proto/rpc/status_conversion.h"

#include <gtest/gtest.h>

#include "google/rpc/status.pb.h"
#include "proto/rpc/retry_info.h"

namespace proxflow::server {
namespace {

TEST(StatusConversion, EveryCanonicalCodeRoundTrips) {
  const std::pair<absl::StatusCode, grpc::StatusCode> table[] = {
      {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN},
      {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {absl::StatusCode::kDeadlineExceeded,
       grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {absl::StatusCode::kPermissionDenied,
       grpc::StatusCode::PERMISSION_DENIED},
      {absl::StatusCode::kResourceExhausted,
       grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::StatusCode::kFailedPrecondition,
       grpc::StatusCode::FAILED_PRECONDITION},
      {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED},
      {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
      {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
      {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& [absl_code, grpc_code] : table) {
    const absl::Status in(absl_code, "training.batch_size must be > 0, got -3");
    const grpc::Status out = rpc::ToGrpcStatus(in);
    EXPECT_EQ(out.error_code(), grpc_code);
    EXPECT_EQ(out.error_message(), "training.batch_size must be > 0, got -3");
    EXPECT_EQ(rpc::FromGrpcStatus(out), in);
  }
  EXPECT_TRUE(rpc::ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(rpc::FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(StatusConversion, OutOfRangeCodesBecomeUnknown) {
  const absl::Status odd(static_cast<absl::StatusCode>(99), "odd");
  EXPECT_EQ(rpc::ToGrpcStatus(odd).error_code(), grpc::StatusCode::UNKNOWN);
  const grpc::Status odd_grpc(static_cast<grpc::StatusCode>(42), "odd");
  EXPECT_EQ(rpc::FromGrpcStatus(odd_grpc).code(), absl::StatusCode::kUnknown);
}

TEST(StatusConversion, RetryInfoTravelsAsAGoogleRpcStatusDetail) {
  const absl::Status status =
      rpc::WithRetryDelay(absl::ResourceExhaustedError("job queue is full"),
                          absl::Milliseconds(2500));
  const grpc::Status wire = rpc::ToGrpcStatus(status);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(wire.error_message(), "job queue is full");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(wire.error_details()));
  EXPECT_EQ(details.code(), 8);
  ASSERT_EQ(details.details_size(), 1);
  EXPECT_EQ(details.details(0).type_url(), rpc::kRetryInfoTypeUrl);
  const absl::Status back = rpc::FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(rpc::RetryDelay(back).has_value());
  EXPECT_EQ(*rpc::RetryDelay(back), absl::Milliseconds(2500));
  // Without payloads no details are sent.
  EXPECT_TRUE(
      rpc::ToGrpcStatus(absl::NotFoundError("x")).error_details().empty());
}

}  // namespace
}  // namespace proxflow::server
