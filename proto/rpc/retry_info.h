// Retry hints on overload errors: a google.rpc.RetryInfo payload on an
// absl::Status, which status_conversion carries to clients as an error detail.
// Thread-safe (pure functions).
#ifndef PROXFLOW_PROTO_RPC_RETRY_INFO_H_
#define PROXFLOW_PROTO_RPC_RETRY_INFO_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace proxflow::rpc {

// `status` with a RetryInfo saying to retry after `delay` (whole ms).
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// The RetryInfo delay of `status`, if it carries one that parses.
std::optional<absl::Duration> RetryDelay(const absl::Status& status);

}  // namespace proxflow::rpc

#endif  // PROXFLOW_PROTO_RPC_RETRY_INFO_H_
