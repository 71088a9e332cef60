// `proxflow-lab bench sample` and `bench matmul`: sampling images/s by batch
// size on one device, and the device's matrix-multiply rate to set it against.
#ifndef PROXFLOW_TOOLS_LAB_BENCH_SAMPLE_H_
#define PROXFLOW_TOOLS_LAB_BENCH_SAMPLE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace proxflow::lab {

struct BenchSampleCommand {
  std::string preset = "toy-2d";
  std::vector<int> batches = {1, 16, 256, 4096};
  int steps = 0;  // 0: the preset's sampling steps
  int repeats = 3;
  std::string device = "auto";
  std::string precision = "auto";
  std::string mnist_dir;
};

// For each batch size, one warm-up and `repeats` timed calls of the sampler of
// a freshly initialised flow of the preset (the cost does not depend on the
// weights): the source draws from the seeds, every step, and the copy of the
// results to the host. Prints one JSON line per batch size: images/s and
// seconds per step (median, min, max), the share of the source draws, and
// beside them the plain batched LibTorch integration of the same seeds
// (Trainer::SampleBatchedBaseline, timed first in each repeat) with the ratio
// of the two rates: what batch invariance costs or gains.
absl::Status RunBenchSample(const BenchSampleCommand& command);

// n×n×n matrix products in fp32 and bf16 on `device`: three warm-ups, then the
// mean of ten timed products; one JSON line per dtype with TFLOP/s.
absl::Status RunBenchMatmul(const std::string& device, int n);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_BENCH_SAMPLE_H_
