#include "core/random_streams.h"

#include <ATen/CPUGeneratorImpl.h>

namespace proxflow::core {

uint64_t DeriveSeed(uint64_t seed, uint64_t index) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

at::Generator MakeCpuGenerator(uint64_t seed) {
  return at::detail::createCPUGenerator(seed);
}

RandomStreams::RandomStreams(uint64_t seed) {
  for (int i = 0; i < kNumStreams; ++i)
    generators_[i] = MakeCpuGenerator(DeriveSeed(seed, i));
}

absl::string_view RandomStreams::Name(Stream s) {
  switch (s) {
    case Stream::kInit:
      return "init";
    case Stream::kPool:
      return "pool";
    case Stream::kSource:
      return "source";
    case Stream::kData:
      return "data";
    case Stream::kInterpolation:
      return "interpolation";
    case Stream::kEvaluation:
      return "evaluation";
    case Stream::kCount:
      break;
  }
  return "unknown";
}

}  // namespace proxflow::core
