// `proxflow-lab train`: one in-process training run with progress lines, a
// final evaluation, a checkpoint and a scatter plot of generated vs target
// points.
#ifndef PROXFLOW_TOOLS_LAB_LAB_TRAIN_H_
#define PROXFLOW_TOOLS_LAB_LAB_TRAIN_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "proxflow/v1/config.pb.h"

namespace proxflow::lab {

struct TrainCommand {
  proxflow::v1::TrainingConfig config;  // preset and overrides
  std::string device = "auto";
  std::string precision = "auto";  // auto | fp32 | bf16 (core/device.h)
  std::string out_dir = "lab-output";
  int samples = 2000;  // points in the plot and the MMD estimate
};

// Runs the command, printing progress to stdout. Returns the first error (bad
// config, I/O).
absl::Status RunTrain(const TrainCommand& command);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_LAB_TRAIN_H_
