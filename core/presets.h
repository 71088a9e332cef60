// Named presets with the published hyperparameters (ALGORITHM.md §5).
//
// A preset is a TrainingConfig with every field set. The resolver starts from
// the preset a config names (default "toy-2d") and merges the user's set fields
// over it. Thread-safe.
#ifndef PROXFLOW_CORE_PRESETS_H_
#define PROXFLOW_CORE_PRESETS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxflow/v1/config.pb.h"

namespace proxflow::core {

inline constexpr absl::string_view kDefaultPreset = "toy-2d";

// Names of every preset, in documentation order.
std::vector<std::string> PresetNames();

// Returns the fully populated config of preset `name`, or INVALID_ARGUMENT
// naming `training.preset` and the value when no such preset exists.
absl::StatusOr<proxflow::v1::TrainingConfig> PresetConfig(
    absl::string_view name);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_PRESETS_H_
