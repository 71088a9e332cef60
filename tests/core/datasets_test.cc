// Datasets: seeded determinism, shapes and defining statistics, MNIST loading.
#include "core/datasets.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "core/random_streams.h"

namespace proxflow::core {
namespace {

TEST(Toy, EveryShapeIsSeededAndFinite) {
  for (ToyShape s :
       {ToyShape::kPinwheel, ToyShape::kMoons, ToyShape::kEightGaussians,
        ToyShape::kCheckerboard, ToyShape::kSwissroll, ToyShape::kCircles,
        ToyShape::kTwoSpirals}) {
    SCOPED_TRACE(std::string(ToyShapeName(s)));
    at::Generator a = MakeCpuGenerator(1), b = MakeCpuGenerator(1),
                  c = MakeCpuGenerator(2);
    const at::Tensor x = SampleToy(s, 1000, a);
    EXPECT_EQ(x.sizes(), (at::IntArrayRef{1000, 2}));
    EXPECT_TRUE(at::isfinite(x).all().item<bool>());
    EXPECT_TRUE(at::equal(x, SampleToy(s, 1000, b)));
    EXPECT_FALSE(at::equal(x, SampleToy(s, 1000, c)));
  }
}

TEST(Toy, EightGaussiansSitOnRadiusTwo) {
  at::Generator gen = MakeCpuGenerator(3);
  const at::Tensor r =
      SampleToy(ToyShape::kEightGaussians, 20000, gen).norm(2, {1});
  EXPECT_NEAR(r.mean().item<double>(), 2.0, 0.02);
  EXPECT_NEAR(r.std().item<double>(), 0.2, 0.02);
}

TEST(Toy, EmbeddingKeepsOffManifoldCoordinatesExactlyZero) {
  at::Generator gen = MakeCpuGenerator(4);
  const at::Tensor p = SampleToy(ToyShape::kPinwheel, 100, gen);
  const at::Tensor e = EmbedInDimension(p, 7);
  EXPECT_EQ(e.size(1), 7);
  EXPECT_TRUE(at::equal(e.narrow(1, 0, 2), p));
  EXPECT_EQ(e.narrow(1, 2, 5).abs().max().item<float>(), 0.0f);
}

TEST(StudentT, HeavyTailsMatchDegreesOfFreedom) {
  at::Generator gen = MakeCpuGenerator(5);
  // ν = 5: variance ν/(ν−2) = 5/3 per coordinate.
  const at::Tensor x = SampleStudentT(200000, 2, 5.0, gen);
  EXPECT_NEAR(x.var().item<double>(), 5.0 / 3.0, 0.05);
}

TEST(Source, UniformRespectsBounds) {
  at::Generator gen = MakeCpuGenerator(6);
  SourceOptions s{SourceKind::kUniform, 0.0, 0.5, 0};
  const at::Tensor x = SampleSource(s, 1000, 784, gen);
  EXPECT_GE(x.min().item<float>(), 0.0f);
  EXPECT_LT(x.max().item<float>(), 0.5f);
  EXPECT_NEAR(x.mean().item<double>(), 0.25, 0.01);
}

TEST(SampleWithoutReplacement, IndicesAreDistinctAndInRange) {
  at::Generator gen = MakeCpuGenerator(8);
  for (int64_t k : {1, 50, 200}) {
    const at::Tensor idx = SampleWithoutReplacement(200, k, gen);
    std::set<int64_t> seen;
    for (int64_t i = 0; i < k; ++i) seen.insert(idx[i].item<int64_t>());
    EXPECT_EQ(static_cast<int64_t>(seen.size()), k);
    EXPECT_GE(*seen.begin(), 0);
    EXPECT_LT(*seen.rbegin(), 200);
  }
}

TEST(Mnist, LoadsTheTrainingPool) {
  const char* dir = std::getenv("PROXFLOW_MNIST_DIR");
  if (dir == nullptr)
    GTEST_SKIP() << "PROXFLOW_MNIST_DIR is unset: MNIST test skipped";
  auto mnist = LoadMnist(dir);
  ASSERT_TRUE(mnist.ok()) << mnist.status();
  EXPECT_EQ(mnist->images.size(1), 784);
  EXPECT_GE(mnist->images.size(0), 6000);
  EXPECT_GE(mnist->images.min().item<float>(), 0.0f);
  EXPECT_LE(mnist->images.max().item<float>(), 1.0f);
  auto pool = MnistTrainingPool(*mnist, {3}, 100);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(pool->size(0), 100);
  auto too_many = MnistTrainingPool(*mnist, {3}, 6000);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Mnist, MissingDirectoryIsNotFound) {
  auto mnist = LoadMnist("/nonexistent/mnist");
  EXPECT_EQ(mnist.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(mnist.status().message().find("t10k-images-idx3-ubyte"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace proxflow::core
