// The flow: velocity from analytic potentials, kinetic energy of known flows,
// HJB residual.
#include "core/flow.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

namespace proxflow::core {
namespace {

at::Tensor Points() {
  return at::tensor({0.3, -1.2, 2.0, 0.5, -0.7, 0.1}, at::kDouble)
      .reshape({3, 2});
}

TEST(Flow, PotentialVelocityIsMinusGradientOverLambda) {
  // U(x,t) = ½ xᵀQx + c·t·‖x‖²  →  ∇U = Qx + 2ctx.
  const at::Tensor q =
      at::tensor({2.0, 0.5, 0.5, 1.0}, at::kDouble).reshape({2, 2});
  const double c = 0.7, lambda = 0.25, t = 0.6;
  Flow flow(
      [&](const at::Tensor& x, const at::Tensor& tt) {
        return 0.5 * (at::matmul(x, q) * x).sum(1) +
               c * tt.squeeze(1) * x.pow(2).sum(1);
      },
      GeneratorForm::kPotential, lambda);
  const at::Tensor x = Points();
  const at::Tensor expected = -(at::matmul(x, q) + 2 * c * t * x) / lambda;
  EXPECT_TRUE(at::allclose(flow.Velocity(x, t, false), expected, 1e-12, 1e-12));
  EXPECT_TRUE(at::allclose(flow.Velocity(x, t, true), expected, 1e-12, 1e-12));
}

TEST(Flow, KineticEnergyOfConstantVelocityFlow) {
  // U = −λ b·x gives v = b: KE = T·½‖b‖² exactly, at either evaluation point.
  const double lambda = 0.5;
  const at::Tensor b = at::tensor({1.5, -2.0}, at::kDouble);
  Flow flow([&](const at::Tensor& x,
                const at::Tensor&) { return -lambda * at::matmul(x, b); },
            GeneratorForm::kPotential, lambda);
  for (KineticEnergyPoint point : {KineticEnergyPoint::kDetachedPostStep,
                                   KineticEnergyPoint::kTrajectory}) {
    RolloutOptions o{
        .dt = 0.2, .steps = 5, .point = point, .kinetic_energy = true};
    const Rollout r = RollOut(flow, Points(), o);
    EXPECT_NEAR(r.kinetic_energy.item<double>(), 1.0 * 0.5 * (1.5 * 1.5 + 4.0),
                1e-12);
    EXPECT_TRUE(at::allclose(r.x_final, Points() + b, 1e-12, 1e-12));
  }
}

TEST(Flow, KineticEnergyOfLinearFlowAlongTrajectory) {
  // Direct velocity v = a·x: Euler gives x_i = (1 + a dt)^i x_0, so the
  // trajectory KE is Σ dt·½ a² (1 + a dt)^{2i} mean‖x_0‖².
  const double a = -0.8, dt = 0.1;
  const int steps = 10;
  Flow flow([&](const at::Tensor& x, const at::Tensor&) { return a * x; },
            GeneratorForm::kDirectVelocity, 1.0);
  RolloutOptions o{
      .dt = dt, .steps = steps, .point = KineticEnergyPoint::kTrajectory};
  const Rollout r = RollOut(flow, Points(), o);
  const double mean_sq = Points().pow(2).sum(1).mean().item<double>();
  double expected = 0;
  for (int i = 0; i < steps; ++i)
    expected += dt * 0.5 * a * a * std::pow(1 + a * dt, 2 * i) * mean_sq;
  EXPECT_NEAR(r.kinetic_energy.item<double>(), expected, 1e-12);
}

TEST(Flow, HjbResidualVanishesOnAnExactSolution) {
  // U = λ‖x‖²/(2(c − t)) solves ∂tU − ‖∇U‖²/(2λ) = 0 for t < c.
  const double lambda = 0.3, c = 3.0;
  const auto exact = [&](const at::Tensor& x, const at::Tensor& t) {
    return lambda * x.pow(2).sum(1) / (2 * (c - t.squeeze(1)));
  };
  Flow flow(exact, GeneratorForm::kPotential, lambda);
  RolloutOptions o{
      .dt = 0.25, .steps = 4, .kinetic_energy = false, .hjb = true};
  EXPECT_LT(RollOut(flow, Points(), o).hjb.item<double>(), 1e-12);
  // The opposite sign convention (the reference code's) is not a solution.
  Flow wrong(
      [&](const at::Tensor& x, const at::Tensor& t) { return -exact(x, t); },
      GeneratorForm::kPotential, lambda);
  EXPECT_GT(RollOut(wrong, Points(), o).hjb.item<double>(), 0.1);
}

TEST(Flow, StraightFlowHasUnitPathToDisplacementRatio) {
  const at::Tensor b = at::tensor({0.4, 0.9}, at::kDouble);
  Flow flow(
      [&](const at::Tensor& x, const at::Tensor&) { return -at::matmul(x, b); },
      GeneratorForm::kPotential, 1.0);
  RolloutOptions o{
      .dt = 0.1, .steps = 10, .kinetic_energy = false, .path_length = true};
  const Rollout r = RollOut(flow, Points(), o);
  const at::Tensor displacement = (r.x_final - Points()).norm(2, {1});
  EXPECT_TRUE(at::allclose(r.path_length, displacement, 1e-12, 1e-12));
  // Constant velocity −b/λ: ½‖b‖² per unit time over T = 1.
  EXPECT_NEAR(r.path_kinetic_energy.item<double>(),
              0.5 * b.square().sum().item<double>(), 1e-12);
}

TEST(Flow, PathKineticEnergyIsTheTrajectoryConventionsKineticEnergy) {
  // A curved, time-dependent field: the paths' ½Σ‖Δx‖²/dt equals the KE taken
  // at (x_i, t_i), and differs from the detached post-step convention's.
  Flow flow(
      [](const at::Tensor& x, const at::Tensor& t) {
        return (x.square().sum(1, true) * (1.0 + t)).squeeze(1);
      },
      GeneratorForm::kPotential, 0.5);
  RolloutOptions o{.dt = 0.2, .steps = 5, .path_length = true};
  o.point = KineticEnergyPoint::kTrajectory;
  const Rollout along = RollOut(flow, Points(), o);
  o.point = KineticEnergyPoint::kDetachedPostStep;
  const Rollout post = RollOut(flow, Points(), o);
  EXPECT_NEAR(along.path_kinetic_energy.item<double>(),
              along.kinetic_energy.item<double>(), 1e-12);
  EXPECT_NEAR(post.path_kinetic_energy.item<double>(),
              along.kinetic_energy.item<double>(), 1e-12);
  EXPECT_GT(std::abs(post.kinetic_energy.item<double>() -
                     post.path_kinetic_energy.item<double>()),
            1e-3);
}

}  // namespace
}  // namespace proxflow::core
