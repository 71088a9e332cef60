// The input gradient of a scalar-output MLP as one autograd node whose
// backward is written out by hand. Internal to core.
//
// U(a) = w·σ(z_L) + c,  z_l = σ(z_{l−1}) W_lᵀ + b_l,  z_0 ≡ a  (L ≥ 1 hidden
// layers). MlpInputGradient returns G = ∂U/∂a, (N, D), differentiable once
// with respect to `a` and every weight and bias: the generator step's double
// backward (and the critic's gradient penalty) then costs a handful of matrix
// products per layer instead of LibTorch's per-operation graph of the
// autograd ∇ₓU. Its backward is not itself differentiable (no third order).
#ifndef PROXFLOW_CORE_MLP_GRADIENT_H_
#define PROXFLOW_CORE_MLP_GRADIENT_H_

#include <ATen/core/Tensor.h>

#include "core/options.h"

namespace proxflow::core {

// σ(z) and σ'(z) of a network body's activation in one pass (TanhKernel for
// fp32 tanh on the CPU), without autograd.
struct Activated {
  at::Tensor value;
  at::Tensor slope;
};
Activated ActivateWithSlope(const at::Tensor& z, Activation activation);

// `a`: (N, D); `weights`: W_1 (H_1, D), …, W_L (H_L, H_{L−1}), then the
// output row w (1, H_L); `biases`: b_1 … b_L (the output bias does not enter
// G). All fp32 or all fp64, on one device.
at::Tensor MlpInputGradient(const at::Tensor& a, at::TensorList weights,
                            at::TensorList biases, Activation activation);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_MLP_GRADIENT_H_
