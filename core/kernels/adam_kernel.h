// Adam's per-element update for the fused optimiser step (core/fused_adam.h),
// torch-free and single-threaded. Thread-compatible: no state.
#ifndef PROXFLOW_CORE_KERNELS_ADAM_KERNEL_H_
#define PROXFLOW_CORE_KERNELS_ADAM_KERNEL_H_

#include <cstdint>

#include "core/kernels/row_kernels.h"

namespace proxflow::core::kernels {

// The scalars of one Adam step, each already rounded to float.
struct AdamScalars {
  float beta1 = 0;             // β₁
  float one_minus_beta1 = 0;   // 1 − β₁
  float beta2 = 0;             // β₂
  float one_minus_beta2 = 0;   // 1 − β₂
  float root_correction2 = 0;  // sqrt(1 − β₂ᵗ)
  float eps = 0;               // ε
  float minus_step = 0;        // −lr / (1 − β₁ᵗ)
};

// For i < n, in this order of IEEE float operations (fma rounds once):
//   m[i] ← fma(g[i], 1−β₁, m[i]·β₁)
//   v[i] ← fma((1−β₂)·g[i], g[i], v[i]·β₂)
//   p[i] ← p[i] + (minus_step·m[i]) / (sqrt(v[i]) / root_correction2 + ε)
// which is what LibTorch's AVX2 and AVX-512 CPU kernels compute for Adam's
// mul_ / add_(alpha) / addcmul_ / sqrt / div / add_ / addcdiv_. Every path
// (the AVX2 one, the portable one) gives the same bits.
void AdamUpdate(float* p, const float* g, float* m, float* v, int64_t n,
                const AdamScalars& s, Isa isa = Isa::kBest);

}  // namespace proxflow::core::kernels

#endif  // PROXFLOW_CORE_KERNELS_ADAM_KERNEL_H_
