#include "core/lipschitz.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <cmath>
#include <vector>

namespace proxflow::core {

at::Tensor GradientPenaltyRows(const ScalarField& critic,
                               const at::Tensor& generated,
                               const at::Tensor& data, const at::Tensor& u,
                               double lipschitz, LipschitzMode mode,
                               const ScalarField& critic_gradient) {
  if (mode == LipschitzMode::kSpectralNorm || mode == LipschitzMode::kNone) {
    return at::zeros({generated.size(0)}, generated.options());
  }
  const at::Tensor mixed = (u * data + (1.0 - u) * generated).detach();
  at::Tensor grad;
  if (critic_gradient) grad = critic_gradient(mixed);
  if (!grad.defined()) {
    const at::Tensor x_hat = mixed.requires_grad_(true);
    grad = torch::autograd::grad({critic(x_hat).sum()}, {x_hat}, {},
                                 /*retain_graph=*/true,
                                 /*create_graph=*/true)[0];
  }
  at::Tensor norm_sq = grad.pow(2).sum(1);
  if (mode == LipschitzMode::kOneSidedPenalty) {
    return at::relu(norm_sq - lipschitz * lipschitz);
  }
  // Two-sided: (‖g‖ − L)²; the epsilon keeps the sqrt differentiable at g = 0.
  return (at::sqrt(norm_sq + 1e-12) - lipschitz).pow(2);
}

at::Tensor GradientPenalty(const ScalarField& critic,
                           const at::Tensor& generated, const at::Tensor& data,
                           const at::Tensor& u, double lipschitz,
                           LipschitzMode mode,
                           const ScalarField& critic_gradient) {
  if (mode == LipschitzMode::kSpectralNorm || mode == LipschitzMode::kNone) {
    return at::zeros({}, generated.options());
  }
  return GradientPenaltyRows(critic, generated, data, u, lipschitz, mode,
                             critic_gradient)
      .mean();
}

double SpectralNorm(const at::Tensor& weight) {
  at::Tensor matrix =
      weight.detach().reshape({weight.size(0), -1}).to(at::kDouble).cpu();
  return at::linalg_svdvals(matrix).max().item<double>();
}

void ProjectSpectralNorm(torch::nn::Module& module, double lipschitz) {
  std::vector<at::Tensor> weights;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    if (item.value().dim() >= 2 && name.size() >= 6 &&
        name.compare(name.size() - 6, 6, "weight") == 0) {
      weights.push_back(item.value());
    }
  }
  if (weights.empty()) return;
  const double target =
      std::pow(lipschitz, 1.0 / static_cast<double>(weights.size()));
  torch::NoGradGuard no_grad;
  for (at::Tensor& w : weights) {
    const double sigma = SpectralNorm(w);
    if (sigma > 0) w.mul_(target / sigma);
  }
}

}  // namespace proxflow::core
