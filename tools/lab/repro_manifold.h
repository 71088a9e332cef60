// `proxflow-lab repro manifold`: the paper's toy/manifold ablation
// (ALGORITHM.md §6–7).
#ifndef PROXFLOW_TOOLS_LAB_REPRO_MANIFOLD_H_
#define PROXFLOW_TOOLS_LAB_REPRO_MANIFOLD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxflow/v1/config.pb.h"

namespace proxflow::lab {

struct ReproManifoldCommand {
  std::string dataset = "pinwheel";
  std::vector<int> dims = {2, 7, 12};
  std::vector<std::string> methods = {"w1w2", "w2", "w1", "none"};
  int64_t iterations = 25000;         // 0: the preset's
  std::vector<uint64_t> seeds = {0};  // every (dim, method) runs each seed
  int eval_samples = 5000;
  std::string device = "auto";
  std::string precision = "auto";  // auto | fp32 | bf16 (core/device.h)
  std::string out_dir = "repro-manifold";
  std::string config_patch;  // JSON TrainingConfig merged over every run's
  std::string command_line;
};

// The config of one run: the preset of `dimension` (toy-2d, manifold-7d,
// manifold-12d; other dimensions take manifold-12d's hyperparameters), the
// JSON `patch` merged over it, then the method's ablation (repro_run.h
// ApplyPatchAndMethod). INVALID_ARGUMENT names an unknown method or dataset,
// or a patch that is not a TrainingConfig.
absl::StatusOr<proxflow::v1::TrainingConfig> AblationConfig(
    const std::string& method, const std::string& dataset, int dimension,
    int64_t iterations, uint64_t seed, const std::string& patch);

// Runs every (dimension, method, seed) in order, writing the report after each
// run so that an interrupted study keeps what finished. `*cancel` stops the
// current run and the study.
absl::Status RunReproManifold(const ReproManifoldCommand& command,
                              const std::atomic<bool>* cancel);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_REPRO_MANIFOLD_H_
