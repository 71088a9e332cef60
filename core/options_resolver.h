// ResolveTrainOptions: the one place a TrainingConfig becomes checked
// TrainOptions.
#ifndef PROXFLOW_CORE_OPTIONS_RESOLVER_H_
#define PROXFLOW_CORE_OPTIONS_RESOLVER_H_

#include <optional>

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

// ResolveTrainOptions for a config stored fully expanded (a checkpoint's, a
// job's resolved_config): a field it lacks did not exist when it was stored,
// so it takes the value that keeps the behaviour of then, never a preset's
// later default (the `mnist` preset's generator.ema_decay would otherwise
// claim a weight average that older checkpoints lack). Pure; thread-safe.
absl::StatusOr<TrainOptions> ResolveStoredTrainOptions(
    const proxflow::v1::TrainingConfig& stored);

// `config` over its preset (default "toy-2d"): every field the run will use,
// before validation. INVALID_ARGUMENT for an unknown preset. Pure function;
// thread-safe.
absl::StatusOr<proxflow::v1::TrainingConfig> ExpandPreset(
    const proxflow::v1::TrainingConfig& config);

// A solver's proto enum and back, by the table the resolver maps
// flow.sample_solver with. SolverFromProto: nullopt for SOLVER_UNSPECIFIED and
// unknown values.
std::optional<Solver> SolverFromProto(proxflow::v1::Solver solver);
proxflow::v1::Solver SolverToProto(Solver solver);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_OPTIONS_RESOLVER_H_
