#include "client/retry.h"

#include <algorithm>
#include <cmath>

#include "absl/random/distributions.h"
#include "proto/rpc/retry_info.h"

namespace proxflow::client {

bool IsRetryable(const absl::Status& status) {
  if (absl::IsUnavailable(status)) return true;
  return absl::IsResourceExhausted(status) &&
         rpc::RetryDelay(status).has_value();
}

absl::Duration RetryBackoff(const RetryPolicy& policy, int retry,
                            const absl::Status& last, absl::BitGenRef gen) {
  const double growth =
      std::pow(std::max(policy.multiplier, 1.0), std::max(retry - 1, 0));
  const absl::Duration ceiling =
      std::min(policy.initial_backoff * growth, policy.max_backoff);
  const double half = absl::ToDoubleSeconds(ceiling) / 2;
  absl::Duration delay =
      absl::Seconds(half + absl::Uniform<double>(gen, 0.0, half));
  if (auto hint = rpc::RetryDelay(last); hint.has_value())
    delay = std::max(delay, *hint);
  return delay;
}

}  // namespace proxflow::client
