// The MNIST quality metrics against known values: the Fréchet formula on
// moments and samples, KID of equal and shifted sets, coverage counts, and the
// classifier (trained on MNIST when PROXFLOW_MNIST_DIR is set).
#include "core/mnist_quality.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/datasets.h"

namespace proxflow::core {
namespace {

at::Tensor Rotation3(double angle) {
  const double c = std::cos(angle), s = std::sin(angle);
  return at::tensor({c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0}, at::kDouble)
      .reshape({3, 3});
}

TEST(Frechet, FromMomentsMatchesTheClosedForms) {
  const at::Tensor ma = at::tensor({1.0, 2.0, 3.0}, at::kDouble);
  const at::Tensor mb = at::tensor({1.5, 2.0, 1.0}, at::kDouble);
  const double mean_term = 0.25 + 0.0 + 4.0;
  // Diagonal (commuting) covariances: Σ (σa − σb)².
  const at::Tensor da = at::diag(at::tensor({4.0, 1.0, 0.25}, at::kDouble));
  const at::Tensor db = at::diag(at::tensor({1.0, 9.0, 0.25}, at::kDouble));
  EXPECT_NEAR(FrechetDistanceFromMoments(ma, da, mb, db),
              mean_term + 1.0 + 4.0 + 0.0, 1e-9);
  // Equal non-diagonal covariances: only the means remain.
  const at::Tensor q = Rotation3(0.7);
  const at::Tensor s =
      q.mm(at::diag(at::tensor({3.0, 0.5, 2.0}, at::kDouble))).mm(q.t());
  EXPECT_NEAR(FrechetDistanceFromMoments(ma, s, mb, s), mean_term, 1e-9);
  // Σa = I, Σb = Q diag(λ) Qᵀ: d + Σλ − 2 Σ√λ.
  EXPECT_NEAR(FrechetDistanceFromMoments(ma, at::eye(3, at::kDouble), mb, s),
              mean_term + 3 + 5.5 -
                  2 * (std::sqrt(3.0) + std::sqrt(0.5) + std::sqrt(2.0)),
              1e-9);
}

TEST(Frechet, FromSamplesApproachesTheFormula) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  const at::Tensor a = at::randn({40000, 3}, gen, at::kDouble) *
                       at::tensor({2.0, 1.0, 0.5}, at::kDouble);
  const at::Tensor b = at::randn({40000, 3}, gen, at::kDouble) *
                           at::tensor({1.0, 3.0, 0.5}, at::kDouble) +
                       at::tensor({1.0, 0.0, -1.0}, at::kDouble);
  // ‖Δμ‖² = 2, Σ(σa − σb)² = 1 + 4 + 0.
  EXPECT_NEAR(FrechetDistance(a.to(at::kFloat), b.to(at::kFloat)), 7.0, 0.15);
  EXPECT_NEAR(FrechetDistance(a, a), 0.0, 1e-6);
}

TEST(KernelDistance, NearZeroForOneDistributionPositiveWhenShifted) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  const at::Tensor a = at::randn({2000, 8}, gen, at::kFloat);
  const at::Tensor b = at::randn({2000, 8}, gen, at::kFloat);
  const double same = KernelDistance(a, b, 10, 1000, 0);
  const double shifted = KernelDistance(a, b + 0.5, 10, 1000, 0);
  EXPECT_LT(std::abs(same), 0.01);
  EXPECT_GT(shifted, 0.1);
  EXPECT_GT(shifted, 50 * std::abs(same));
  // Deterministic for a seed.
  EXPECT_EQ(KernelDistance(a, b, 3, 500, 7), KernelDistance(a, b, 3, 500, 7));
}

TEST(ViewableImages, NanIsBlackAndPixelsAreClampedToTheUnitRange) {
  const at::Tensor raw =
      at::tensor({-0.5, 0.25, 1.75, std::nan(""), 1.0, 0.0}, at::kDouble)
          .reshape({1, 1, 2, 3});
  absl::StatusOr<at::Tensor> seen = ViewableImages(raw);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->scalar_type(), at::kFloat);
  EXPECT_EQ(seen->sizes(), raw.sizes());
  const at::Tensor want =
      at::tensor({0.0, 0.25, 1.0, 0.0, 1.0, 0.0}, at::kFloat)
          .reshape({1, 1, 2, 3});
  EXPECT_TRUE(at::equal(*seen, want)) << *seen;
}

TEST(Coverage, CountsClassesConfidence) {
  // 200 rows: 150 of class 3 (p=0.9), 48 of class 7 (p=0.6), 2 of class 0
  // (p=1.0): class 0 holds 1 % of the rows, exactly the threshold.
  at::Tensor p = at::zeros({200, 10});
  for (int i = 0; i < 200; ++i) {
    const int c = i < 150 ? 3 : i < 198 ? 7 : 0;
    const float top = c == 3 ? 0.9f : c == 7 ? 0.6f : 1.0f;
    p[i].fill_((1 - top) / 9);
    p[i][c] = top;
  }
  const Coverage c = ClassCoverage(p);
  EXPECT_EQ(c.counts[3], 150);
  EXPECT_EQ(c.counts[7], 48);
  EXPECT_EQ(c.counts[0], 2);
  EXPECT_EQ(c.counts[1], 0);
  EXPECT_EQ(c.classes_covered, 3);
  EXPECT_NEAR(c.mean_confidence, (150 * 0.9 + 48 * 0.6 + 2 * 1.0) / 200, 1e-6);
}

TEST(Classifier, RejectsBadShapesAndForeignBytes) {
  ClassifierOptions o;
  o.device = "cpu";
  EXPECT_EQ(
      MnistClassifier::Train(at::zeros({4, 10}), at::zeros({4}, at::kLong), o)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      MnistClassifier::Train(at::zeros({4, 784}), at::zeros({3}, at::kLong), o)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MnistClassifier::Load("not weights", "cpu").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Classifier, LearnsMnistAndCachesItsWeights) {
  const char* dir = std::getenv("PROXFLOW_MNIST_DIR");
  if (dir == nullptr || *dir == '\0') {
    GTEST_SKIP()
        << "PROXFLOW_MNIST_DIR is unset: MNIST classifier test skipped";
  }
  auto mnist = LoadMnist(dir);
  ASSERT_TRUE(mnist.ok()) << mnist.status();
  const at::Tensor x = mnist->images.narrow(0, 0, 3000);
  const at::Tensor y = mnist->labels.narrow(0, 0, 3000);
  const at::Tensor hx = mnist->images.narrow(0, 6000, 1000);
  const at::Tensor hy = mnist->labels.narrow(0, 6000, 1000);
  ClassifierOptions o;
  o.epochs = 1;
  o.device = "cpu";
  const std::string cache =
      (std::filesystem::temp_directory_path() /
       ("proxflow-classifier-test-" + std::to_string(::getpid())))
          .string();
  bool cached = true;
  auto trained = TrainOrLoadClassifier(x, y, o, cache, &cached);
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_FALSE(cached);
  auto accuracy = (*trained)->Accuracy(hx, hy);
  ASSERT_TRUE(accuracy.ok());
  EXPECT_GT(*accuracy, 0.85) << "held-out accuracy after one epoch";
  auto again = TrainOrLoadClassifier(x, y, o, cache, &cached);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(cached);
  auto p1 = (*trained)->Probabilities(hx.narrow(0, 0, 50));
  auto p2 = (*again)->Probabilities(hx.narrow(0, 0, 50));
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_TRUE(at::equal(*p1, *p2));
  auto features = (*again)->Features(hx.narrow(0, 0, 50));
  ASSERT_TRUE(features.ok());
  EXPECT_EQ(features->sizes(), (std::vector<int64_t>{50, 128}));
  std::filesystem::remove_all(cache);
}

}  // namespace
}  // namespace proxflow::core
