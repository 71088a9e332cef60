// Divergences: conjugates against a numerical Legendre transform, and the
// DV/Legendre variational forms against closed-form divergences of two
// Gaussians with optimal critics.
#include "core/divergence.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/random_streams.h"

namespace proxflow::core {
namespace {

// sup_{x>0} (s·x − f(x)) by a dense log-spaced scan refined with golden-section
// search.
double NumericalConjugate(const std::function<double(double)>& f, double s) {
  double best_x = 1e-12, best = -1e300;
  for (double lx = -12; lx <= 6; lx += 0.01) {
    const double x = std::exp(lx);
    const double v = s * x - f(x);
    if (v > best) best = v, best_x = x;
  }
  double a = best_x * 0.97, b = best_x * 1.03;
  const double r = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i < 200; ++i) {
    const double c = b - r * (b - a), d = a + r * (b - a);
    if (s * c - f(c) > s * d - f(d))
      b = d;
    else
      a = c;
  }
  const double x = (a + b) / 2;
  return std::max(best, s * x - f(x));
}

double Conj(DivergenceKind kind, double s, double alpha = 2.0) {
  return Conjugate(kind, at::full({1}, s, at::kDouble), alpha).item<double>();
}

TEST(Conjugate, KlMatchesLegendreTransformOfXLogX) {
  const auto f = [](double x) { return x * std::log(x); };
  for (double s : {-2.0, -0.5, 0.0, 0.7, 1.5}) {
    EXPECT_NEAR(Conj(DivergenceKind::kKlLegendre, s), NumericalConjugate(f, s),
                1e-6)
        << s;
  }
}

TEST(Conjugate, ReverseKlMatchesLegendreTransformOfMinusLog) {
  const auto f = [](double x) { return -std::log(x); };
  for (double s : {-3.0, -1.0, -0.25}) {
    EXPECT_NEAR(Conj(DivergenceKind::kReverseKl, s), NumericalConjugate(f, s),
                1e-6)
        << s;
  }
}

TEST(Conjugate, AlphaMatchesLegendreTransform) {
  for (double alpha : {1.5, 2.0, 3.0}) {
    const auto f = [alpha](double x) {
      return (std::pow(x, alpha) - 1) / (alpha * (alpha - 1));
    };
    for (double s : {-1.0, 0.0, 0.5, 1.2}) {
      // For s <= 0 the supremum is approached at x → 0: f(0) = −1/(α(α−1)).
      const double expected =
          s <= 0 ? 1 / (alpha * (alpha - 1)) : NumericalConjugate(f, s);
      EXPECT_NEAR(Conj(DivergenceKind::kAlpha, s, alpha), expected, 1e-6)
          << alpha << " " << s;
    }
  }
}

TEST(Conjugate, JensenShannonMatchesLegendreTransform) {
  const auto f = [](double x) {
    return x * std::log(x) - (1 + x) * std::log((1 + x) / 2);
  };
  for (double s : {-2.0, -0.3, 0.0, 0.4, 0.65}) {
    EXPECT_NEAR(Conj(DivergenceKind::kJensenShannon, s),
                NumericalConjugate(f, s), 1e-6)
        << s;
  }
}

TEST(Conjugate, DomainGuardsKeepValuesFinite) {
  EXPECT_TRUE(std::isfinite(Conj(DivergenceKind::kReverseKl, 0.5)));
  EXPECT_TRUE(std::isfinite(Conj(DivergenceKind::kJensenShannon, 5.0)));
  EXPECT_GT(Conj(DivergenceKind::kReverseKl, 0.5),
            10.0);  // −1 − log(1e-6) ≈ 12.8
}

// P = N(μ, 1), Q = N(0, 1): log p/q = μx − μ²/2.
class GaussianPair : public ::testing::Test {
 protected:
  static constexpr double kMu = 0.8;
  static constexpr int64_t kN = 400000;
  void SetUp() override {
    at::Generator gen = MakeCpuGenerator(7);
    p_ = at::randn({kN}, gen, at::kDouble) + kMu;
    q_ = at::randn({kN}, gen, at::kDouble);
  }
  static at::Tensor LogRatio(const at::Tensor& x) {
    return kMu * x - kMu * kMu / 2;
  }
  double Estimate(DivergenceKind kind,
                  const std::function<at::Tensor(const at::Tensor&)>& phi,
                  double alpha = 2.0) const {
    Divergence d(kind, alpha);
    return d.Estimate(phi(p_), phi(q_), at::zeros({}, at::kDouble))
        .item<double>();
  }
  at::Tensor p_, q_;
};

TEST_F(GaussianPair, DonskerVaradhanRecoversKl) {
  const double kl = kMu * kMu / 2;
  EXPECT_NEAR(Estimate(DivergenceKind::kKlDv, LogRatio), kl, 0.02 * kl + 2e-3);
  // DV is shift invariant: φ + 5 gives the same value.
  EXPECT_NEAR(Estimate(DivergenceKind::kKlDv,
                       [](const at::Tensor& x) { return LogRatio(x) + 5; }),
              kl, 0.02 * kl + 2e-3);
}

TEST_F(GaussianPair, LegendreKlRecoversKl) {
  const double kl = kMu * kMu / 2;
  EXPECT_NEAR(Estimate(DivergenceKind::kKlLegendre,
                       [](const at::Tensor& x) { return 1 + LogRatio(x); }),
              kl, 0.02 * kl + 2e-3);
}

TEST_F(GaussianPair, ReverseKlRecoversKlOfQToP) {
  // D_f with f = −log x is KL(Q‖P) = μ²/2 too; optimal φ = f'(p/q) = −q/p.
  const double kl = kMu * kMu / 2;
  EXPECT_NEAR(
      Estimate(DivergenceKind::kReverseKl,
               [](const at::Tensor& x) { return -at::exp(-LogRatio(x)); }),
      kl, 0.03 * kl + 3e-3);
}

TEST_F(GaussianPair, AlphaRecoversClosedForm) {
  const double alpha = 2.0;
  // ∫p^α q^{1−α} = exp(α(α−1)μ²/2);  D_α = (that − 1)/(α(α−1)); optimal φ =
  // (p/q)^{α−1}/(α−1).
  const double expected = (std::exp(alpha * (alpha - 1) * kMu * kMu / 2) - 1) /
                          (alpha * (alpha - 1));
  EXPECT_NEAR(Estimate(
                  DivergenceKind::kAlpha,
                  [&](const at::Tensor& x) {
                    return at::exp((alpha - 1) * LogRatio(x)) / (alpha - 1);
                  },
                  alpha),
              expected, 0.03 * expected);
}

TEST_F(GaussianPair, JensenShannonRecoversNumericalIntegral) {
  // JS with this f: ∫ q f(p/q) dx, integrated on a fine grid.
  double expected = 0;
  const double dx = 1e-3;
  for (double x = -12; x <= 12; x += dx) {
    const double q = std::exp(-x * x / 2) / std::sqrt(2 * M_PI);
    const double r = std::exp(kMu * x - kMu * kMu / 2);
    expected += q * (r * std::log(r) - (1 + r) * std::log((1 + r) / 2)) * dx;
  }
  // Optimal φ = f'(r) = log(2r/(1+r)).
  EXPECT_NEAR(Estimate(DivergenceKind::kJensenShannon,
                       [](const at::Tensor& x) {
                         const at::Tensor r = at::exp(LogRatio(x));
                         return at::log(2 * r / (1 + r));
                       }),
              expected, 0.03 * expected);
}

TEST(Divergence, DonskerVaradhanIsStableForLargeCritics) {
  Divergence d(DivergenceKind::kKlDv, 2.0);
  const at::Tensor phi = at::full({100}, 1000.0, at::kFloat);
  EXPECT_NEAR(d.Lambda(phi, at::zeros({})).item<double>(), 1000.0, 1e-3);
}

TEST(Divergence, W1IsTheMean) {
  Divergence d(DivergenceKind::kW1, 2.0);
  const at::Tensor phi = at::tensor({1.0, 2.0, 6.0}, at::kDouble);
  EXPECT_DOUBLE_EQ(d.Lambda(phi, at::zeros({}, at::kDouble)).item<double>(),
                   3.0);
  EXPECT_FALSE(d.uses_shift());
  EXPECT_TRUE(Divergence(DivergenceKind::kAlpha, 2.0).uses_shift());
}

}  // namespace
}  // namespace proxflow::core
