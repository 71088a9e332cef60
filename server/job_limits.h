// What one training job may ask of the server, checked at submission on the
// resolved config (issue "security and robustness": limits). The config
// resolver's ranges say what is meaningful; these say what this server can
// afford, so that one request cannot exhaust its memory. Torch-free; pure
// functions, thread-safe.
#ifndef PROXFLOW_SERVER_JOB_LIMITS_H_
#define PROXFLOW_SERVER_JOB_LIMITS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "core/options.h"

namespace proxflow::server {

struct JobLimits {
  // Parameters of generator and critic together (float32: 4 bytes each,
  // plus two Adam moments).
  int64_t max_network_parameters = 50'000'000;
  // batch_size and eval_batch_size.
  int64_t max_batch_size = 8192;
  // Pool bytes (pool_size × data dimension × 4) of the dataset and the source.
  int64_t max_pool_bytes = int64_t{1} << 30;
  // The unrolled flow the generator step differentiates through:
  // max(batch_size, eval_batch_size) × (generator depth × width + data
  // dimension) × steps. 2^28 elements ≈ 1 GiB of float32 per saved tensor set.
  int64_t max_activation_elements = int64_t{1} << 28;
};

// INVALID_ARGUMENT naming the config field, its value and the server flag of
// the limit it breaks.
absl::Status CheckJobLimits(const core::TrainOptions& options,
                            const JobLimits& limits);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_JOB_LIMITS_H_
