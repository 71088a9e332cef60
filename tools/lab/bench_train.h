// `proxflow-lab bench train`: training iterations/s of a preset, timed like
// bench/reference/train_reference.py (warm-up, then the median of repeated
// timed blocks).
#ifndef PROXFLOW_TOOLS_LAB_BENCH_TRAIN_H_
#define PROXFLOW_TOOLS_LAB_BENCH_TRAIN_H_

#include <string>

#include "absl/status/status.h"

namespace proxflow::lab {

struct BenchTrainCommand {
  std::string preset = "toy-2d";
  int iterations = 200;  // per timed block
  int repeats = 3;
  int warmup = 10;
  std::string device = "auto";
  std::string precision = "auto";  // auto | fp32 | bf16 (core/device.h)
  int threads = 0;                 // reported only; set process-wide by main
  std::string mnist_dir;           // for the mnist preset
};

// Prints one JSON line: {"implementation": "proxflow", "preset", "threads",
// "iterations_per_second_median", "min", "max", "repeats"}.
absl::Status RunBenchTrain(const BenchTrainCommand& command);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_BENCH_TRAIN_H_
