// ResolveTrainOptions: the one place a TrainingConfig becomes checked
// TrainOptions.
#ifndef PROXFLOW_CORE_OPTIONS_RESOLVER_H_
#define PROXFLOW_CORE_OPTIONS_RESOLVER_H_

#include "absl/status/statusor.h"
#include "core/options.h"
#include "proxflow/v1/config.pb.h"

namespace proxflow::core {

// Expands `config` over its preset (default "toy-2d": unset fields take the
// preset's values) and validates every field. Returns INVALID_ARGUMENT whose
// message starts with the field path and contains the offending value (e.g.
// "training.batch_size must be in [1, 65536], got -3"). Values are rejected,
// never clipped. Pure function; thread-safe.
absl::StatusOr<TrainOptions> ResolveTrainOptions(
    const proxflow::v1::TrainingConfig& config);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_OPTIONS_RESOLVER_H_
