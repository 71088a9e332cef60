// The vectorised tanh on every instruction set the CPU runs (the AVX-512
// variant skips with a message on a CPU without it): accuracy against double
// precision, special values, and the same bits from every variant and at
// every position of an array.
#include "core/kernels/tanh_kernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace proxflow::core::kernels {
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

std::string Name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kPortable:
      return "portable";
    case Isa::kBest:
      return "best";
  }
  return "?";
}

class TanhKernelTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!IsaSupported(GetParam())) {
      GTEST_SKIP() << "this CPU does not run the " << Name(GetParam())
                   << " variant";
    }
  }
};

TEST_P(TanhKernelTest, RelativeErrorBelowFourUlpAgainstDoublePrecision) {
  const std::vector<float> x = Grid();
  std::vector<float> y(x.size()), slope(x.size());
  TanhKernel(x.data(), y.data(), slope.data(), static_cast<int64_t>(x.size()),
             GetParam());
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
    ASSERT_EQ(slope[i], std::fma(-y[i], y[i], 1.0f)) << "at " << x[i];
  }
  EXPECT_LT(worst, 5e-7) << "worst at x = " << worst_at;
}

TEST_P(TanhKernelTest, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.0f,          -0.0f,  inf,   -inf,
                                std::nanf(""), 1e-45f, 30.0f, -30.0f};
  std::vector<float> y(x.size());
  TanhKernel(x.data(), y.data(), nullptr, static_cast<int64_t>(x.size()),
             GetParam());
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

// The same bits as the portable variant (libm's exact fmaf), for the whole
// grid at once (vector body) and for every element alone (loop remainder).
TEST_P(TanhKernelTest, SameBitsAsThePortableVariantAtEveryPosition) {
  const std::vector<float> x = Grid();
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> want(n), want_slope(n), got(n), got_slope(n);
  TanhKernel(x.data(), want.data(), want_slope.data(), n, Isa::kPortable);
  TanhKernel(x.data(), got.data(), got_slope.data(), n, GetParam());
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(got[i], want[i]) << Name(GetParam()) << " at " << x[i];
    ASSERT_EQ(got_slope[i], want_slope[i])
        << Name(GetParam()) << " at " << x[i];
  }
  for (int64_t i = 0; i < n; i += 997) {
    for (const int64_t len : {1, 3, 9, 17}) {
      if (i + len > n) continue;
      std::vector<float> part(len);
      TanhKernel(x.data() + i, part.data(), nullptr, len, GetParam());
      for (int64_t j = 0; j < len; ++j) {
        ASSERT_EQ(part[j], want[i + j]) << "element " << j << " of " << len;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, TanhKernelTest,
                         ::testing::Values(Isa::kBest, Isa::kAvx512, Isa::kAvx2,
                                           Isa::kPortable),
                         [](const auto& info) { return Name(info.param); });

}  // namespace
}  // namespace proxflow::core::kernels
