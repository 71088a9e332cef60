// Integrator orders on dx/dt = A x, whose exact solution is exp(tA) x0.
#include "core/integrators.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <atomic>

namespace proxflow::core {
namespace {

class LinearOde : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = at::tensor({-0.5, 1.0, -1.0, -0.3}, at::kDouble).reshape({2, 2});
    x0_ = at::tensor({1.0, 0.5, -0.7, 2.0}, at::kDouble)
              .reshape({2, 2});  // two samples
    exact_ = at::matmul(x0_, at::linalg_matrix_exp(a_ * kT).t());
  }
  double Error(Solver solver, int steps) const {
    const VelocityFn v = [this](const at::Tensor& x, double) {
      return at::matmul(x, a_.t());
    };
    const at::Tensor x =
        Integrate(solver, v, x0_, 0.0, kT / steps, steps).final;
    return (x - exact_).abs().max().item<double>();
  }
  static constexpr double kT = 1.0;
  at::Tensor a_, x0_, exact_;
};

TEST_F(LinearOde, EulerErrorHalvesWithHalfStep) {
  const double ratio = Error(Solver::kEuler, 40) / Error(Solver::kEuler, 80);
  EXPECT_NEAR(ratio, 2.0, 0.15);
}

TEST_F(LinearOde, HeunAndMidpointAreSecondOrder) {
  EXPECT_NEAR(Error(Solver::kHeun, 40) / Error(Solver::kHeun, 80), 4.0, 0.3);
  EXPECT_NEAR(Error(Solver::kMidpoint, 40) / Error(Solver::kMidpoint, 80), 4.0,
              0.3);
}

TEST_F(LinearOde, Rk4ErrorDropsBySixteen) {
  const double ratio = Error(Solver::kRk4, 10) / Error(Solver::kRk4, 20);
  EXPECT_NEAR(ratio, 16.0, 1.5);
  EXPECT_LT(Error(Solver::kRk4, 20), 1e-6);
}

TEST_F(LinearOde, HonoursAnyStepCountAndRecordsFrames) {
  int calls = 0;
  const VelocityFn v = [&](const at::Tensor& x, double) {
    ++calls;
    return at::matmul(x, a_.t());
  };
  const Trajectory t =
      Integrate(Solver::kRk4, v, x0_, 0.0, kT / 7, 7, /*record_every=*/3);
  EXPECT_EQ(calls,
            28);  // 7 steps × 4 evaluations: the step count is never replaced
  EXPECT_EQ(t.steps_done, 7);
  ASSERT_EQ(t.frames.size(), 4u);  // x0, step 3, step 6, final step 7
  EXPECT_TRUE(at::equal(t.frames.front(), x0_));
  EXPECT_TRUE(at::equal(t.frames.back(), t.final));
}

TEST_F(LinearOde, CancelStopsBeforeTheNextStep) {
  std::atomic<bool> cancel{false};
  int calls = 0;
  const VelocityFn v = [&](const at::Tensor& x, double) {
    if (++calls == 3) cancel = true;
    return x;
  };
  const Trajectory t =
      Integrate(Solver::kEuler, v, x0_, 0.0, 0.1, 10, 0, &cancel);
  EXPECT_TRUE(t.cancelled);
  EXPECT_EQ(t.steps_done, 3);
}

TEST(Integrators, TimeArgumentIsExactPerStep) {
  std::vector<double> times;
  const VelocityFn v = [&](const at::Tensor& x, double t) {
    times.push_back(t);
    return at::zeros_like(x);
  };
  Integrate(Solver::kMidpoint, v, at::zeros({1, 1}, at::kDouble), 0.0, 0.25, 2);
  EXPECT_EQ(times, (std::vector<double>{0.0, 0.125, 0.25, 0.375}));
}

}  // namespace
}  // namespace proxflow::core
