// Lipschitz control of the critic: the W1 proximal (ALGORITHM.md §3).
#ifndef PROXFLOW_CORE_LIPSCHITZ_H_
#define PROXFLOW_CORE_LIPSCHITZ_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <functional>

#include "core/options.h"

namespace proxflow::core {

// A scalar field over samples: (N, d) → (N).
using ScalarField = std::function<at::Tensor(const at::Tensor&)>;

// Gradient penalty at the interpolates x̂ = u·data + (1−u)·generated, `u` of
// shape (N, 1):
//   one-sided: mean(relu(‖∇φ(x̂)‖² − L²));   two-sided: mean((‖∇φ(x̂)‖ − L)²).
// The result keeps the graph (double backward) so it can be added to the critic
// loss. Returns a zero scalar for kSpectralNorm and kNone. `critic_gradient`,
// when given and returning a defined tensor, supplies ∇φ(x̂) as a
// differentiable node (FlowNet::DifferentiableInputGradient) in place of
// autograd's ∇ with create_graph.
at::Tensor GradientPenalty(const ScalarField& critic,
                           const at::Tensor& generated, const at::Tensor& data,
                           const at::Tensor& u, double lipschitz,
                           LipschitzMode mode,
                           const ScalarField& critic_gradient = nullptr);

// The per-row terms GradientPenalty averages, shape (N): relu(‖∇φ(x̂)‖² − L²)
// or (‖∇φ(x̂)‖ − L)², zeros for kSpectralNorm and kNone. Rows are independent
// (the data-parallel critic step computes them shard by shard).
at::Tensor GradientPenaltyRows(const ScalarField& critic,
                               const at::Tensor& generated,
                               const at::Tensor& data, const at::Tensor& u,
                               double lipschitz, LipschitzMode mode,
                               const ScalarField& critic_gradient = nullptr);

// Rescales every weight matrix (Linear, and Conv2d reshaped to out×(in·k·k))
// below `module` to spectral norm L^(1/n), n = number of such weights, so that
// the composition is L-Lipschitz for 1-Lipschitz activations. Exact (singular
// values), in place, no gradient.
void ProjectSpectralNorm(torch::nn::Module& module, double lipschitz);

// The largest singular value of `weight` viewed as a matrix (out × rest).
double SpectralNorm(const at::Tensor& weight);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_LIPSCHITZ_H_
