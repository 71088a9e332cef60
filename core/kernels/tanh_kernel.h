// A vectorised float tanh for the CPU (no LibTorch): LibTorch 1.13's at::tanh
// (SLEEF, 1 ULP) costs 4.5 ns per element here, five times its exp, and was
// 17% of a toy-preset training iteration.
//
// Every variant computes each value by the same sequence of IEEE operations,
// its multiply-adds as explicit FMAs (the file is compiled with
// -ffp-contract=off), so the AVX-512, AVX2 and portable variants give the same
// bits on any x86-64 CPU, and an element's value never depends on where it
// falls in the array (vector body or remainder). The portable variant's FMAs
// are libm's fmaf: exact, and slow on a CPU without FMA hardware.
#ifndef PROXFLOW_CORE_KERNELS_TANH_KERNEL_H_
#define PROXFLOW_CORE_KERNELS_TANH_KERNEL_H_

#include <cstdint>

#include "core/kernels/row_kernels.h"

namespace proxflow::core::kernels {

// Contract: out[i] = tanh(in[i]) for i < n, relative error below 5e-7
// (≈ 4 ULP; tests/core/fast_tanh_test.cc measures it against double-precision
// tanh), tanh(±0) = ±0, tanh(±inf) = ±1, NaN stays NaN. When derivative is
// not null, derivative[i] = 1 − out[i]² (one FMA). in, out and derivative may
// not overlap except in == out. kBest picks AVX-512, else AVX2+FMA, else the
// portable variant; the caller must check IsaSupported for the others.
// Thread-compatible (no state).
void TanhKernel(const float* in, float* out, float* derivative, int64_t n,
                Isa isa = Isa::kBest);

}  // namespace proxflow::core::kernels

#endif  // PROXFLOW_CORE_KERNELS_TANH_KERNEL_H_
