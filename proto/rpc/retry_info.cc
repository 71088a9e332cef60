#include "proto/rpc/retry_info.h"

#include <string>

#include "google/rpc/error_details.pb.h"
#include "proto/rpc/status_conversion.h"

namespace proxflow::rpc {

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  const int64_t ms = absl::ToInt64Milliseconds(delay);
  google::rpc::RetryInfo info;
  info.mutable_retry_delay()->set_seconds(ms / 1000);
  info.mutable_retry_delay()->set_nanos(static_cast<int32_t>(ms % 1000) *
                                        1000000);
  status.SetPayload(kRetryInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

std::optional<absl::Duration> RetryDelay(const absl::Status& status) {
  const auto payload = status.GetPayload(kRetryInfoTypeUrl);  // absl::optional
  google::rpc::RetryInfo info;
  if (!payload || !info.ParseFromString(std::string(*payload)))
    return std::nullopt;
  return absl::Seconds(info.retry_delay().seconds()) +
         absl::Nanoseconds(info.retry_delay().nanos());
}

}  // namespace proxflow::rpc
