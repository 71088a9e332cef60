// A vectorised float tanh for the CPU (no LibTorch): LibTorch 1.13's at::tanh
// (SLEEF, 1 ULP) costs 4.5 ns per element here, five times its exp, and was
// 17% of a toy-preset training iteration. Internal to core.
#ifndef PROXFLOW_CORE_TANH_KERNEL_H_
#define PROXFLOW_CORE_TANH_KERNEL_H_

#include <cstdint>

namespace proxflow::core {

// Contract: out[i] = tanh(in[i]) for i < n, relative error below 5e-7
// (≈ 4 ULP; tests/core/fast_tanh_test.cc measures it against double-precision
// tanh), tanh(±0) = ±0, tanh(±inf) = ±1, NaN stays NaN. When derivative is
// not null, derivative[i] = 1 − out[i]². in, out and derivative may not
// overlap except in == out. Thread-compatible (no state).
void TanhKernel(const float* in, float* out, float* derivative, int64_t n);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_TANH_KERNEL_H_
