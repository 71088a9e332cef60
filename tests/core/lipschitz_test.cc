// The W1 proximal: gradient penalties on linear critics and spectral
// normalisation.
#include "core/lipschitz.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/networks.h"
#include "core/random_streams.h"

namespace proxflow::core {
namespace {

// φ(x) = w·x with ‖w‖ = slope: exactly slope-Lipschitz.
double Penalty(double slope, LipschitzMode mode) {
  const at::Tensor w = at::tensor({0.6, 0.8}, at::kDouble) * slope;
  at::Generator gen = MakeCpuGenerator(3);
  const at::Tensor x = at::randn({64, 2}, gen, at::kDouble);
  const at::Tensor y = at::randn({64, 2}, gen, at::kDouble) + 2;
  const at::Tensor u = at::rand({64, 1}, gen, at::kDouble);
  return GradientPenalty([&](const at::Tensor& z) { return at::matmul(z, w); },
                         x, y, u, 1.0, mode)
      .item<double>();
}

TEST(GradientPenalty, OneSidedIsZeroForHalfLipschitzCritic) {
  EXPECT_EQ(Penalty(0.5, LipschitzMode::kOneSidedPenalty), 0.0);
}

TEST(GradientPenalty, OneSidedIsPositiveForTwoLipschitzCritic) {
  // relu(‖∇φ‖² − L²) = 4 − 1 at every interpolate.
  EXPECT_NEAR(Penalty(2.0, LipschitzMode::kOneSidedPenalty), 3.0, 1e-12);
}

TEST(GradientPenalty, TwoSidedPenalisesBothDirections) {
  EXPECT_NEAR(Penalty(0.5, LipschitzMode::kTwoSidedPenalty), 0.25, 1e-9);
  EXPECT_NEAR(Penalty(2.0, LipschitzMode::kTwoSidedPenalty), 1.0, 1e-9);
}

TEST(GradientPenalty, NoneAndSpectralAddNothing) {
  EXPECT_EQ(Penalty(2.0, LipschitzMode::kNone), 0.0);
  EXPECT_EQ(Penalty(2.0, LipschitzMode::kSpectralNorm), 0.0);
}

TEST(SpectralNorm, ProjectionHitsTargetPerLayer) {
  NetworkOptions net{Architecture::kMlp, 3, 32, Activation::kRelu};
  FlowNet critic(5, false, 1, net);
  at::Generator gen = MakeCpuGenerator(11);
  GlorotNormalInit(*critic, gen);
  const double lipschitz = 2.0;
  ProjectSpectralNorm(*critic, lipschitz);
  int layers = 0;
  for (const auto& p : critic->named_parameters()) {
    if (p.value().dim() == 2) ++layers;
  }
  ASSERT_EQ(layers, 4);
  const double target = std::pow(lipschitz, 1.0 / layers);
  for (const auto& p : critic->named_parameters()) {
    if (p.value().dim() != 2) continue;
    EXPECT_NEAR(SpectralNorm(p.value()), target, 1e-3) << p.key();
  }
}

TEST(SpectralNorm, ProjectedCriticRespectsTheBound) {
  NetworkOptions net{Architecture::kMlp, 2, 16, Activation::kRelu};
  FlowNet critic(3, false, 1, net);
  at::Generator gen = MakeCpuGenerator(5);
  GlorotNormalInit(*critic, gen);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : critic->parameters()) p.mul_(10);  // far from Lipschitz
  }
  ProjectSpectralNorm(*critic, 1.0);
  const at::Tensor x = at::randn({256, 3}, gen).requires_grad_(true);
  const at::Tensor g =
      torch::autograd::grad({critic->forward(x).sum()}, {x})[0];
  EXPECT_LE(g.norm(2, {1}).max().item<double>(), 1.0 + 1e-4);
}

}  // namespace
}  // namespace proxflow::core
