#include "core/seeded_normals.h"

#include <cmath>
#include <cstdint>

namespace proxflow::core {
namespace {

constexpr int kStateWords = 624;  // MT19937's n
constexpr int kShift = 397;       // MT19937's m
constexpr uint32_t kMatrixA = 0x9908b0dfU;
constexpr uint32_t kUpperMask = 0x80000000U;
constexpr uint32_t kLowerMask = 0x7fffffffU;
// 2·kMaxSeededNormals words at most (two per uniform, two uniforms per pair).
constexpr int kMaxWords = 4 * ((kMaxSeededNormals + 1) / 2);
static_assert(kMaxWords + kShift <= kStateWords, "first twist only");

uint32_t Temper(uint32_t y) {
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

// 53-bit double in [0, 1) from random64 = (first word << 32) | second word.
double Uniform53(uint32_t first, uint32_t second) {
  const uint64_t bits = (static_cast<uint64_t>(first) << 32) | second;
  constexpr uint64_t kMask = (uint64_t{1} << 53) - 1;
  return static_cast<double>(bits & kMask) * (1.0 / (uint64_t{1} << 53));
}

}  // namespace

void SeededNormals(uint64_t seed, int d, float* out) {
  const int words = 4 * ((d + 1) / 2);
  // The seeding recurrence (at::mt19937's init_with_uint32) up to the last
  // word the first `words` outputs of the first twist read.
  uint32_t state[kMaxWords + kShift + 1];
  state[0] = static_cast<uint32_t>(seed & 0xffffffffU);
  const int needed = words + kShift;
  for (int j = 1; j < needed; ++j) {
    state[j] = 1812433253U * (state[j - 1] ^ (state[j - 1] >> 30)) +
               static_cast<uint32_t>(j);
  }
  uint32_t w[kMaxWords];
  for (int i = 0; i < words; ++i) {
    const uint32_t y = (state[i] & kUpperMask) | (state[i + 1] & kLowerMask);
    w[i] = Temper(state[i + kShift] ^ (y >> 1) ^
                  ((state[i + 1] & 1U) ? kMatrixA : 0U));
  }
  for (int k = 0; k < d; k += 2) {
    const double u1 = Uniform53(w[2 * k], w[2 * k + 1]);
    const double u2 = Uniform53(w[2 * k + 2], w[2 * k + 3]);
    const double r = std::sqrt(-2.0 * std::log(1.0 - u2));
    const double theta = 2.0 * M_PI * u1;
    out[k] = static_cast<float>(r * std::cos(theta));
    if (k + 1 < d) out[k + 1] = static_cast<float>(r * std::sin(theta));
  }
}

}  // namespace proxflow::core
