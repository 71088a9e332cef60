// Seeded, independent random streams of one training run (CPU generators).
//
// All random draws of training happen on CPU generators and are moved to the
// run's device, so a run is reproducible from its seed on any device and its
// state fits in a checkpoint. Not thread-safe: owned by one Trainer.
#ifndef PROXFLOW_CORE_RANDOM_STREAMS_H_
#define PROXFLOW_CORE_RANDOM_STREAMS_H_

#include <ATen/core/Generator.h>

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxflow::core {

// Derives a well-mixed 64-bit seed for stream `index` from a run seed
// (SplitMix64).
uint64_t DeriveSeed(uint64_t seed, uint64_t index);

// A CPU generator seeded with `seed`.
at::Generator MakeCpuGenerator(uint64_t seed);

enum class Stream : int {
  kInit = 0,
  kPool,
  kSource,
  kData,
  kInterpolation,
  kEvaluation,
  kCount
};

class RandomStreams {
 public:
  explicit RandomStreams(uint64_t seed);

  at::Generator& Get(Stream s) { return generators_[static_cast<int>(s)]; }
  static absl::string_view Name(Stream s);

  static constexpr int kNumStreams = static_cast<int>(Stream::kCount);
  at::Generator& at(int i) { return generators_[i]; }
  const at::Generator& at(int i) const { return generators_[i]; }

 private:
  std::array<at::Generator, kNumStreams> generators_;
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_RANDOM_STREAMS_H_
