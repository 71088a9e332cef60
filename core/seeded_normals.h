// The standard normal values LibTorch's CPU generator draws for a small tensor,
// computed without one: at::randn({1, d}, MakeCpuGenerator(seed)) for d < 16,
// bit for bit. Internal to core.
//
// Why: the sampling service draws every sample's starting point from a
// generator seeded with the sample's seed (a sample depends on its seed alone).
// Constructing that generator seeds all 624 words of its Mersenne Twister and
// twists them all, and the draw goes through the dispatcher: ~4 µs a row, 45 %
// of a 4,096-point toy request. A draw of d < 16 values uses only the first
// 2·d words of the first twist, which need the seeding recurrence up to word
// 397 + 2·d only; the rest of the state is never computed.
//
// Draw order (ATen's serial normal kernel for tensors under 16 elements, with
// normal_distribution<double>): per pair of values, u1 then u2 from random64()
// (two 32-bit words, the first the high half) as 53-bit doubles in [0, 1);
// r = sqrt(−2 log(1 − u2)), θ = 2π u1; value r cos θ, then the cached r sin θ.
#ifndef PROXFLOW_CORE_SEEDED_NORMALS_H_
#define PROXFLOW_CORE_SEEDED_NORMALS_H_

#include <cstdint>

namespace proxflow::core {

// The largest d SeededNormals handles (ATen draws 16+ values another way).
inline constexpr int kMaxSeededNormals = 15;

// Writes the d (1 ≤ d ≤ kMaxSeededNormals) float values of
// at::randn({1, d}, at::detail::createCPUGenerator(seed)) to out[0..d).
void SeededNormals(uint64_t seed, int d, float* out);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_SEEDED_NORMALS_H_
