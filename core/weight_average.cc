#include "core/weight_average.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <algorithm>
#include <vector>

namespace proxflow::core {
namespace {

// The parameters, then the floating buffers, of `m` in registration order.
std::vector<at::Tensor> Weights(const torch::nn::Module& m) {
  std::vector<at::Tensor> out = m.parameters(/*recurse=*/true);
  for (const at::Tensor& b : m.buffers(/*recurse=*/true))
    if (at::isFloatingType(b.scalar_type())) out.push_back(b);
  return out;
}

}  // namespace

double AverageDecay(double decay, int64_t update) {
  const double warm = (1.0 + static_cast<double>(update)) /
                      (10.0 + static_cast<double>(update));
  return std::min(decay, warm);
}

void UpdateAverage(torch::nn::Module& average, const torch::nn::Module& live,
                   double decay, int64_t update) {
  torch::NoGradGuard no_grad;
  const double d = AverageDecay(decay, update);
  const std::vector<at::Tensor> to = Weights(average);
  const std::vector<at::Tensor> from = Weights(live);
  TORCH_CHECK(to.size() == from.size(), "UpdateAverage: ", to.size(),
              " averaged tensors for ", from.size(), " live ones");
  for (size_t i = 0; i < to.size(); ++i) {
    // Two separate products and one sum (no fused multiply-add, whichever
    // kernel LibTorch picks): the bits are the CPU's IEEE arithmetic alone.
    const at::Tensor fresh = from[i].mul(1.0 - d);
    at::Tensor target = to[i];
    target.mul_(d).add_(fresh);
  }
}

void CopyWeights(torch::nn::Module& average, const torch::nn::Module& live) {
  torch::NoGradGuard no_grad;
  const std::vector<at::Tensor> to = Weights(average);
  const std::vector<at::Tensor> from = Weights(live);
  TORCH_CHECK(to.size() == from.size(), "CopyWeights: ", to.size(),
              " averaged tensors for ", from.size(), " live ones");
  for (size_t i = 0; i < to.size(); ++i) {
    at::Tensor target = to[i];
    target.copy_(from[i]);
  }
}

}  // namespace proxflow::core
