// Metrics against known values.
#include "core/metrics.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/random_streams.h"

namespace proxflow::core {
namespace {

TEST(Sinkhorn, IdenticalSetsAreZero) {
  at::Generator gen = MakeCpuGenerator(1);
  const at::Tensor x = at::randn({500, 2}, gen, at::kDouble);
  EXPECT_NEAR(SinkhornDivergence(x, x), 0.0, 1e-9);
}

TEST(Sinkhorn, TranslatedCloudGivesExactlyHalfSquaredShift) {
  // For cost ½‖x−y‖² the terms linear in the shift s are separable, so the
  // debiased divergence between a cloud and its translate is ‖s‖²/2 at every ε:
  // a sharp check of the solver.
  at::Generator gen = MakeCpuGenerator(2);
  const at::Tensor x = at::randn({1000, 2}, gen, at::kDouble);
  const at::Tensor shift = at::tensor({1.5, -1.0}, at::kDouble);
  EXPECT_NEAR(SinkhornDivergence(x, x + shift), 1.625, 1e-3);
}

TEST(Sinkhorn, ShiftedGaussiansMatchClosedFormW2) {
  // OT between N(0,I) and N(μ,I) under ½‖x−y‖² is ‖μ‖²/2 = 1.625. Independent
  // samples carry sampling error: their empirical means differ from 0 and μ.
  // Measured here with seed 2: ½‖mean shift‖² 1.524, Sinkhorn 1.522. The
  // divergence must match the empirical shift closely and the population value
  // within the sampling error.
  at::Generator gen = MakeCpuGenerator(2);
  const at::Tensor x = at::randn({1500, 2}, gen, at::kDouble);
  const at::Tensor shift = at::tensor({1.5, -1.0}, at::kDouble);
  const at::Tensor y = at::randn({1500, 2}, gen, at::kDouble) + shift;
  const double empirical =
      (y.mean(0) - x.mean(0)).pow(2).sum().item<double>() / 2;
  const double s = SinkhornDivergence(x, y);
  EXPECT_NEAR(s, empirical, 0.03);
  EXPECT_NEAR(s, 1.625, 0.15);
}

TEST(Sinkhorn, GrowsWithTheShift) {
  at::Generator gen = MakeCpuGenerator(3);
  const at::Tensor x = at::randn({400, 2}, gen, at::kDouble);
  const at::Tensor y = at::randn({400, 2}, gen, at::kDouble);
  const double near = SinkhornDivergence(x, y + 0.1);
  const double far = SinkhornDivergence(x, y + 1.0);
  EXPECT_GT(far, 10 * near);
  EXPECT_GE(near, -1e-6);
}

TEST(SlicedW2, ShiftAlongOneAxisIsRecovered) {
  // Shift s along e1: projected W2² = s²·θ₁², mean over directions on the
  // circle = s²/2.
  at::Generator gen = MakeCpuGenerator(4);
  const at::Tensor x = at::randn({4000, 2}, gen, at::kDouble);
  const at::Tensor y = x + at::tensor({2.0, 0.0}, at::kDouble);
  EXPECT_NEAR(SlicedW2(x, y, 2048, 9), std::sqrt(2.0), 0.05);
  EXPECT_NEAR(SlicedW2(x, x, 64, 9), 0.0, 1e-12);
}

TEST(Mmd, SeparatesShiftedSets) {
  at::Generator gen = MakeCpuGenerator(5);
  const at::Tensor x = at::randn({500, 2}, gen, at::kDouble);
  const at::Tensor y = at::randn({500, 2}, gen, at::kDouble);
  EXPECT_NEAR(MmdRbf(x, y), 0.0, 0.01);
  EXPECT_GT(MmdRbf(x, y + 2.0), 0.2);
}

// One straight path of length 3 and one L-shaped path (1,0) then (0,1):
// displacements 3 + √2 over path lengths 3 + 2. A tiny-displacement sample
// would dominate a mean of per-sample ratios; the ratio of sums weighs it by
// its length.
TEST(Straightness, IsTotalDisplacementOverTotalPathLength) {
  const at::Tensor x0 = at::zeros({3, 2}, at::kDouble);
  const at::Tensor xT =
      at::tensor({3.0, 0.0, 1.0, 1.0, 1e-9, 0.0}, at::kDouble).reshape({3, 2});
  const at::Tensor path = at::tensor({3.0, 2.0, 0.5}, at::kDouble);
  EXPECT_NEAR(Straightness(path, x0, xT), (3.0 + std::sqrt(2.0) + 1e-9) / 5.5,
              1e-12);
  EXPECT_DOUBLE_EQ(Straightness(path.narrow(0, 0, 1), x0.narrow(0, 0, 1),
                                xT.narrow(0, 0, 1)),
                   1.0);
  EXPECT_DOUBLE_EQ(
      Straightness(at::zeros({2}, at::kDouble), at::zeros({2, 2}, at::kDouble),
                   at::zeros({2, 2}, at::kDouble)),
      1.0);
}

}  // namespace
}  // namespace proxflow::core
