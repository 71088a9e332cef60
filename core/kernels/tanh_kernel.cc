#include "core/kernels/tanh_kernel.h"

#include <cmath>
#include <cstring>

// Compiled with -O3 (GCC 12's -O2 leaves the loops scalar) and
// -ffp-contract=off: every FMA below is written out, none is formed by the
// compiler, so every variant and the remainder of every loop compute the same
// operations.

namespace proxflow::core::kernels {
namespace {

// exp(y) for y in [-18, 0]: y = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split
// of ln2), a degree-7 Taylor polynomial for exp(r) (truncation < 6e-9
// relative), and 2^n built in the exponent bits.
__attribute__((always_inline)) inline float ExpNonPositive(float y) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kRoundShift = 12582912.0f;  // 1.5·2^23: t - shift rounds
  constexpr int32_t kRoundShiftBits = 0x4B400000;
  constexpr float kLn2High = 0.693359375f;  // 9 significant bits: n·high exact
  constexpr float kLn2Low = -2.12194440e-4f;
  const float t = std::fma(y, kLog2e, kRoundShift);
  const float n = t - kRoundShift;
  const float r = std::fma(-n, kLn2Low, std::fma(-n, kLn2High, y));
  float p = 1.0f / 5040.0f;
  p = std::fma(p, r, 1.0f / 720.0f);
  p = std::fma(p, r, 1.0f / 120.0f);
  p = std::fma(p, r, 1.0f / 24.0f);
  p = std::fma(p, r, 1.0f / 6.0f);
  p = std::fma(p, r, 0.5f);
  p = std::fma(p, r, 1.0f);
  p = std::fma(p, r, 1.0f);
  int32_t t_bits;
  std::memcpy(&t_bits, &t, sizeof t_bits);
  const int32_t scale_bits = (t_bits - kRoundShiftBits + 127) << 23;
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return p * scale;
}

// tanh(a) for a ≥ 0 (or NaN).
__attribute__((always_inline)) inline float TanhNonNegative(float a) {
  // Beyond 9, tanh rounds to 1 in float; the clamp keeps exp's range.
  const float clamped = a > 9.0f ? 9.0f : a;  // NaN passes through
  // Small a: the odd Taylor series (next term < 1e-8 relative at 0.25),
  // free of the cancellation in 1 − e.
  const float s = clamped * clamped;
  float q = -1382.0f / 155925.0f;
  q = std::fma(q, s, 62.0f / 2835.0f);
  q = std::fma(q, s, -17.0f / 315.0f);
  q = std::fma(q, s, 2.0f / 15.0f);
  q = std::fma(q, s, -1.0f / 3.0f);
  const float small = std::fma(clamped * s, q, clamped);
  // Otherwise tanh(a) = (1 − e)/(1 + e), e = exp(−2a).
  const float e = ExpNonPositive(-2.0f * clamped);
  const float large = (1.0f - e) / (1.0f + e);
  return clamped < 0.25f ? small : large;
}

__attribute__((always_inline)) inline void TanhLoop(const float* in, float* out,
                                                    float* derivative,
                                                    int64_t n) {
  if (derivative == nullptr) {
    for (int64_t i = 0; i < n; ++i) {
      const float x = in[i];
      out[i] = std::copysign(TanhNonNegative(std::fabs(x)), x);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const float x = in[i];
    const float y = std::copysign(TanhNonNegative(std::fabs(x)), x);
    out[i] = y;
    derivative[i] = std::fma(-y, y, 1.0f);
  }
}

__attribute__((target("avx512f,avx2,fma"))) void TanhAvx512(const float* in,
                                                            float* out,
                                                            float* derivative,
                                                            int64_t n) {
  TanhLoop(in, out, derivative, n);
}

__attribute__((target("avx2,fma"))) void TanhAvx2(const float* in, float* out,
                                                  float* derivative,
                                                  int64_t n) {
  TanhLoop(in, out, derivative, n);
}

void TanhPortable(const float* in, float* out, float* derivative, int64_t n) {
  TanhLoop(in, out, derivative, n);
}

}  // namespace

void TanhKernel(const float* in, float* out, float* derivative, int64_t n,
                Isa isa) {
  if (isa == Isa::kBest) isa = BestIsa();
  switch (isa) {
    case Isa::kAvx512:
      TanhAvx512(in, out, derivative, n);
      return;
    case Isa::kAvx2:
      TanhAvx2(in, out, derivative, n);
      return;
    case Isa::kBest:
    case Isa::kPortable:
      TanhPortable(in, out, derivative, n);
      return;
  }
}

}  // namespace proxflow::core::kernels
