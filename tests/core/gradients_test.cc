// Every loss term's gradient against central finite differences, in double
// precision.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include "core/divergence.h"
#include "core/flow.h"
#include "core/lipschitz.h"
#include "core/networks.h"
#include "core/random_streams.h"
#include "tests/testing/gradient_check.h"

namespace proxflow::core {
namespace {

using proxflow::testing::CheckGradients;
using proxflow::testing::GradientCheckResult;

class Gradients : public ::testing::Test {
 protected:
  void SetUp() override {
    at::Generator gen = MakeCpuGenerator(21);
    // Smooth activations: finite differences are meaningless across ReLU kinks.
    const NetworkOptions net{Architecture::kMlp, 2, 6, Activation::kTanh};
    potential_ = FlowNet(2, true, 1, net);
    critic_ = Critic(
        2, NetworkOptions{Architecture::kMlp, 2, 6, Activation::kSoftplus});
    GlorotNormalInit(*potential_, gen);
    GlorotNormalInit(*critic_, gen);
    potential_->to(at::kDouble);
    critic_->to(at::kDouble);
    x0_ = at::randn({16, 2}, gen, at::kDouble);
    y_ = at::randn({16, 2}, gen, at::kDouble) * 0.5 + 1;
    u_ = at::rand({16, 1}, gen, at::kDouble);
    {
      torch::NoGradGuard no_grad;
      critic_->nu().fill_(0.3);
    }
  }

  static void ExpectAgrees(const GradientCheckResult& r) {
    ASSERT_GT(r.checked, 0);
    ASSERT_GT(r.max_abs_grad, 1e-8) << "gradient is zero: nothing was checked";
    EXPECT_LT(r.max_abs_error, 1e-6 * std::max(1.0, r.max_abs_grad))
        << "max |grad| " << r.max_abs_grad;
  }

  Rollout Roll(KineticEnergyPoint point, bool hjb) {
    Flow flow(potential_, GeneratorForm::kPotential, 0.5);
    RolloutOptions o{.dt = 0.25,
                     .steps = 4,
                     .point = point,
                     .create_graph = true,
                     .kinetic_energy = true,
                     .hjb = hjb};
    return RollOut(flow, x0_, o);
  }

  FlowNet potential_{nullptr};
  Critic critic_{nullptr};
  at::Tensor x0_, y_, u_;
};

TEST_F(Gradients, CriticGeneratedTerm) {
  ExpectAgrees(CheckGradients([&] { return critic_->forward(x0_).mean(); },
                              critic_->parameters()));
}

TEST_F(Gradients, EveryDivergenceTerm) {
  for (DivergenceKind kind :
       {DivergenceKind::kKlDv, DivergenceKind::kW1, DivergenceKind::kKlLegendre,
        DivergenceKind::kReverseKl, DivergenceKind::kAlpha,
        DivergenceKind::kJensenShannon}) {
    SCOPED_TRACE(static_cast<int>(kind));
    Divergence d(kind, 2.5);
    // Reverse KL needs φ − ν < 0 and JS φ − ν < log 2: shift φ into the domain
    // so the guard's clamp is inactive and the gradient is the true one.
    const double shift = kind == DivergenceKind::kReverseKl       ? -20.0
                         : kind == DivergenceKind::kJensenShannon ? -5.0
                                                                  : 0.0;
    ExpectAgrees(CheckGradients(
        [&] { return d.Lambda(critic_->forward(y_) + shift, critic_->nu()); },
        critic_->parameters()));
  }
}

TEST_F(Gradients, OneSidedPenalty) {
  ExpectAgrees(CheckGradients(
      [&] {
        return GradientPenalty(
            [&](const at::Tensor& x) { return critic_->forward(x); }, x0_, y_,
            u_, 0.05, LipschitzMode::kOneSidedPenalty);
      },
      critic_->parameters()));
}

TEST_F(Gradients, TwoSidedPenalty) {
  ExpectAgrees(CheckGradients(
      [&] {
        return GradientPenalty(
            [&](const at::Tensor& x) { return critic_->forward(x); }, x0_, y_,
            u_, 1.0, LipschitzMode::kTwoSidedPenalty);
      },
      critic_->parameters()));
}

TEST_F(Gradients, GeneratorTermThroughTheTrajectory) {
  ExpectAgrees(CheckGradients(
      [&] {
        return critic_
            ->forward(
                Roll(KineticEnergyPoint::kDetachedPostStep, false).x_final)
            .mean();
      },
      potential_->parameters()));
}

// The reference convention evaluates KE and HJB at the detached post-step
// points x_{i+1} with time t_i: their gradient holds those points fixed. The
// finite-difference reference therefore freezes the points at the unperturbed
// parameters.
std::vector<at::Tensor> PostStepPoints(const Flow& flow, at::Tensor x,
                                       double dt, int steps) {
  std::vector<at::Tensor> points;
  for (int i = 0; i < steps; ++i) {
    x = x + dt * flow.Velocity(x, i * dt, false);
    points.push_back(x.detach());
  }
  return points;
}

TEST_F(Gradients, KineticEnergyAtDetachedPostStepPoints) {
  Flow flow(potential_, GeneratorForm::kPotential, 0.5);
  const std::vector<at::Tensor> points = PostStepPoints(flow, x0_, 0.25, 4);
  const auto frozen = [&] {
    at::Tensor ke = at::zeros({}, at::kDouble);
    for (int i = 0; i < 4; ++i) {
      ke = ke +
           0.25 * 0.5 *
               flow.Velocity(points[i], i * 0.25, true).pow(2).sum(1).mean();
    }
    return ke;
  };
  ExpectAgrees(CheckGradients(
      [&] {
        return Roll(KineticEnergyPoint::kDetachedPostStep, false)
            .kinetic_energy;
      },
      frozen, potential_->parameters()));
}

TEST_F(Gradients, KineticEnergyAlongTheTrajectory) {
  ExpectAgrees(CheckGradients(
      [&] {
        return Roll(KineticEnergyPoint::kTrajectory, false).kinetic_energy;
      },
      potential_->parameters()));
}

TEST_F(Gradients, HjbResidualAlongTheTrajectory) {
  ExpectAgrees(CheckGradients(
      [&] { return Roll(KineticEnergyPoint::kTrajectory, true).hjb; },
      potential_->parameters()));
}

TEST_F(Gradients, HjbResidualAtDetachedPostStepPoints) {
  Flow flow(potential_, GeneratorForm::kPotential, 0.5);
  const std::vector<at::Tensor> points = PostStepPoints(flow, x0_, 0.25, 4);
  const auto frozen = [&] {
    at::Tensor hjb = at::zeros({}, at::kDouble);
    for (int i = 0; i < 4; ++i) {
      hjb = hjb + 0.25 * flow.HjbResidual(
                             flow.Gradients(points[i], i * 0.25, true, true));
    }
    return hjb;
  };
  ExpectAgrees(CheckGradients(
      [&] { return Roll(KineticEnergyPoint::kDetachedPostStep, true).hjb; },
      frozen, potential_->parameters()));
}

TEST_F(Gradients, TerminalResidual) {
  Flow flow(potential_, GeneratorForm::kPotential, 0.5);
  const auto terminal = [&] {
    const at::Tensor x_T =
        Roll(KineticEnergyPoint::kDetachedPostStep, false).x_final;
    return TerminalResidual(
        flow, [&](const at::Tensor& x) { return critic_->forward(x); }, x_T,
        1.0, true);
  };
  ExpectAgrees(CheckGradients(terminal, potential_->parameters()));
}

}  // namespace
}  // namespace proxflow::core
