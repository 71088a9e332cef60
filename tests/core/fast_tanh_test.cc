#include "core/fast_tanh.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/tanh_kernel.h"

namespace proxflow::core {
namespace {

// Every float step of 1e-4 in [-20, 20] and a geometric sweep of tiny to
// moderate magnitudes of both signs.
std::vector<float> Grid() {
  std::vector<float> x;
  for (int i = -200000; i <= 200000; ++i) x.push_back(i * 1e-4f);
  for (float v = 1e-30f; v < 2.0f; v *= 1.01f) {
    x.push_back(v);
    x.push_back(-v);
  }
  return x;
}

TEST(TanhKernel, RelativeErrorBelowFourUlpAgainstDoublePrecision) {
  const std::vector<float> x = Grid();
  std::vector<float> y(x.size()), slope(x.size());
  TanhKernel(x.data(), y.data(), slope.data(), static_cast<int64_t>(x.size()));
  double worst = 0;
  float worst_at = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double reference = std::tanh(static_cast<double>(x[i]));
    const double error =
        reference == 0 ? std::fabs(y[i]) : std::fabs(y[i] / reference - 1);
    if (error > worst) {
      worst = error;
      worst_at = x[i];
    }
    // 1 − y² in float, fused or not: within one ulp of 1.
    ASSERT_NEAR(slope[i], 1.0 - static_cast<double>(y[i]) * y[i], 1.2e-7)
        << "at " << x[i];
  }
  EXPECT_LT(worst, 5e-7) << "worst at x = " << worst_at;
}

TEST(TanhKernel, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.0f,          -0.0f,  inf,   -inf,
                                std::nanf(""), 1e-45f, 30.0f, -30.0f};
  std::vector<float> y(x.size());
  TanhKernel(x.data(), y.data(), nullptr, static_cast<int64_t>(x.size()));
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_FALSE(std::signbit(y[0]));
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_TRUE(std::signbit(y[1]));
  EXPECT_EQ(y[2], 1.0f);
  EXPECT_EQ(y[3], -1.0f);
  EXPECT_TRUE(std::isnan(y[4]));
  EXPECT_EQ(y[5], 1e-45f);
  EXPECT_EQ(y[6], 1.0f);
  EXPECT_EQ(y[7], -1.0f);
}

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
