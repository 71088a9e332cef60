// `proxflow-lab repro mnist`: the paper's MNIST ablation (ALGORITHM.md §6–7)
// measured with the project's own classifier: Fréchet distance and KID of its
// features, class coverage and confidence, next to the floor (training pool
// vs held-out pool) and the ceiling (source noise vs held-out pool).
#ifndef PROXFLOW_TOOLS_LAB_REPRO_MNIST_H_
#define PROXFLOW_TOOLS_LAB_REPRO_MNIST_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace proxflow::lab {

struct ReproMnistCommand {
  std::vector<std::string> methods = {"w1w2", "w2", "w1", "none"};
  int64_t iterations = 200;  // 0: the preset's
  // Every method runs each seed. The classifier is the project's (seed 0),
  // whatever the run seeds: the figures of all studies read one classifier.
  std::vector<uint64_t> seeds = {0};
  // Every N iterations (and at the end) the trainer's evaluation, with the
  // class monitor's coverage on the preset's eval_batch_size images from
  // fixed seeds: the report's coverage curve. 0: none (the end only).
  int64_t eval_interval = 0;
  int eval_samples = 2000;  // generated images per run (held-out pool: 4000)
  int classifier_epochs = 4;
  std::string device = "auto";
  std::string precision = "auto";
  std::string mnist_dir;
  std::string
      cache_dir;  // classifier weights; default OUT/../.classifier-cache
  std::string out_dir = "repro-mnist";
  // Each run's final checkpoint as out_dir/STEM.pxf
  // (Trainer::SerializeCheckpoint: what the registry's upload and FlowModel
  // take).
  bool save_checkpoints = false;
  std::string config_patch;  // JSON TrainingConfig merged over every run's
  std::string command_line;
};

// Trains (or loads from the cache) the classifier, measures floor and ceiling,
// then trains and measures each method in order, writing the report after
// each run. `*cancel` stops the current run and the study.
absl::Status RunReproMnist(const ReproMnistCommand& command,
                           const std::atomic<bool>* cancel);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_REPRO_MNIST_H_
