// Which failed calls a client sends again, and how long it waits first.
// Pure functions; thread-safe.
#ifndef PROXFLOW_CLIENT_RETRY_H_
#define PROXFLOW_CLIENT_RETRY_H_

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace proxflow::client {

struct RetryPolicy {
  int max_attempts = 5;  // first try included; 1 disables retries
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  double multiplier = 2.0;
};

// UNAVAILABLE (the server is starting, draining or unreachable) and
// RESOURCE_EXHAUSTED that carries the server's RetryInfo (a full queue). Only
// idempotent calls are retried; callers decide that.
bool IsRetryable(const absl::Status& status);

// The wait before retry `retry` (1-based): initial·multiplier^(retry−1) capped
// at max_backoff, drawn uniformly from its upper half (jitter), and never less
// than the server's RetryInfo delay.
absl::Duration RetryBackoff(const RetryPolicy& policy, int retry,
                            const absl::Status& last, absl::BitGenRef gen);

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_RETRY_H_
