#include "server/job_limits.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/network_size.h"

namespace proxflow::server {
namespace {

absl::Status TooLarge(absl::string_view field, int64_t value,
                      absl::string_view what, absl::string_view flag,
                      int64_t limit) {
  return absl::InvalidArgumentError(
      absl::StrCat("training.", field, " = ", value, " gives ", what,
                   " above this server's limit --", flag, "=", limit));
}

}  // namespace

absl::Status CheckJobLimits(const core::TrainOptions& o,
                            const JobLimits& limits) {
  const int d = core::DataDimension(o);
  const int64_t generator = core::GeneratorParameters(o);
  const int64_t critic = core::CriticParameters(o);
  if (generator + critic > limits.max_network_parameters) {
    return TooLarge(
        "generator.network.width", o.generator.network.width,
        absl::StrCat(generator, " generator + ", critic,
                     " critic parameters (with depths ",
                     o.generator.network.depth, " and ", o.critic.network.depth,
                     ", critic width ", o.critic.network.width, ")"),
        "max_network_parameters", limits.max_network_parameters);
  }
  if (o.batch_size > limits.max_batch_size) {
    return TooLarge("batch_size", o.batch_size, "a batch", "max_batch_size",
                    limits.max_batch_size);
  }
  if (o.eval_batch_size > limits.max_batch_size) {
    return TooLarge("eval_batch_size", o.eval_batch_size, "a batch",
                    "max_batch_size", limits.max_batch_size);
  }
  const auto pool = [&](absl::string_view field, int64_t size) -> absl::Status {
    const int64_t bytes = size * d * 4;
    if (bytes > limits.max_pool_bytes) {
      return TooLarge(field, size,
                      absl::StrCat(bytes, " bytes of pool (dimension ", d, ")"),
                      "max_pool_bytes", limits.max_pool_bytes);
    }
    return absl::OkStatus();
  };
  if (absl::Status s = pool("dataset.pool_size", o.dataset.pool_size); !s.ok())
    return s;
  if (absl::Status s = pool("source.pool_size", o.source.pool_size); !s.ok())
    return s;
  const int64_t batch = std::max(o.batch_size, o.eval_batch_size);
  const int64_t activations =
      batch *
      (int64_t{o.generator.network.depth} * o.generator.network.width + d) *
      o.flow.steps;
  if (activations > limits.max_activation_elements) {
    return TooLarge(
        "flow.steps", o.flow.steps,
        absl::StrCat(activations,
                     " activation elements in the unrolled flow (batch ", batch,
                     " × (depth × width + dimension) × steps)"),
        "max_activation_elements", limits.max_activation_elements);
  }
  return absl::OkStatus();
}

}  // namespace proxflow::server
