#include "core/fast_tanh.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

namespace proxflow::core {
namespace {

// First and second derivatives through Tanh agree with at::tanh's, so the
// generator's double backward sees the same function.
TEST(FastTanh, FirstAndSecondDerivativesMatchLibTorch) {
  at::manual_seed(3);
  const at::Tensor base = at::randn({64, 48}) * 2;
  const auto derivatives = [&](bool ours) {
    const at::Tensor x = base.clone().requires_grad_(true);
    const at::Tensor y = ours ? Tanh(x) : at::tanh(x);
    const at::Tensor first =
        torch::autograd::grad({y.pow(2).sum()}, {x}, {}, true, true)[0];
    const at::Tensor second =
        torch::autograd::grad({first.sum()}, {x}, {}, false, false)[0];
    return std::vector<at::Tensor>{y.detach(), first.detach(), second};
  };
  const auto ours = derivatives(true);
  const auto reference = derivatives(false);
  for (size_t k = 0; k < ours.size(); ++k) {
    EXPECT_TRUE(at::allclose(ours[k], reference[k], 1e-5, 1e-6))
        << "order " << k << ": max difference "
        << (ours[k] - reference[k]).abs().max().item<double>();
  }
  EXPECT_FALSE(at::equal(ours[2], at::zeros_like(ours[2])));
}

TEST(FastTanh, ValueAndDerivativeInOnePass) {
  at::manual_seed(4);
  const at::Tensor x = at::randn({33, 7}) * 3;
  const auto [y, slope] = TanhAndDerivative(x);
  EXPECT_TRUE(at::allclose(y, at::tanh(x), 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(slope, 1 - at::tanh(x).pow(2), 1e-5, 1e-6));
  // A non-contiguous input and a double input take the general path.
  const at::Tensor t = x.t();
  EXPECT_TRUE(at::allclose(Tanh(t), at::tanh(t), 1e-6, 1e-7));
  const at::Tensor d = x.to(at::kDouble);
  EXPECT_TRUE(at::equal(Tanh(d), at::tanh(d)));
}

}  // namespace
}  // namespace proxflow::core
