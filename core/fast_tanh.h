// tanh for network bodies: kernels::TanhKernel (core/kernels/tanh_kernel.h) on
// contiguous fp32 CPU tensors, at::tanh elsewhere (CUDA, bf16, fp64). Internal
// to core.
#ifndef PROXFLOW_CORE_FAST_TANH_H_
#define PROXFLOW_CORE_FAST_TANH_H_

#include <ATen/core/Tensor.h>

#include <utility>

namespace proxflow::core {

// tanh(x), differentiable to any order like at::tanh (its backward is
// at::tanh_backward on the saved output, so double backward works).
at::Tensor Tanh(const at::Tensor& x);

// {tanh(x), 1 − tanh(x)²} in one pass, without autograd (for the analytic
// input gradient).
std::pair<at::Tensor, at::Tensor> TanhAndDerivative(const at::Tensor& x);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_FAST_TANH_H_
