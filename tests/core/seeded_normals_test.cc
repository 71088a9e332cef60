// SeededNormals against LibTorch's own draw from a freshly seeded generator.
#include "core/seeded_normals.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/random_streams.h"

namespace proxflow::core {
namespace {

TEST(SeededNormals, BitForBitLibTorchsDrawFromAFreshGenerator) {
  // Small, large, 32-bit-boundary and high-bit seeds (only the low 32 bits
  // seed LibTorch's Mersenne Twister; the same must hold here).
  std::vector<uint64_t> seeds = {0,
                                 1,
                                 2,
                                 5489,
                                 0xffffffffULL,
                                 0x100000000ULL,
                                 0x123456789abcdefULL,
                                 ~uint64_t{0}};
  for (uint64_t s = 1000; s < 1300; ++s) seeds.push_back(s * 2654435761ULL);
  int compared = 0;
  for (int d = 1; d <= kMaxSeededNormals; ++d) {
    for (uint64_t seed : seeds) {
      at::Generator gen = MakeCpuGenerator(seed);
      const at::Tensor want = at::randn({1, d}, gen, at::kFloat).contiguous();
      std::vector<float> got(d, -99.0f);
      SeededNormals(seed, d, got.data());
      for (int i = 0; i < d; ++i) {
        ASSERT_EQ(got[i], want.data_ptr<float>()[i])
            << "seed " << seed << ", d " << d << ", value " << i;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 120 * static_cast<int>(seeds.size()));
}

}  // namespace
}  // namespace proxflow::core
