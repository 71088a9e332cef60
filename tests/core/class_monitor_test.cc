// The class-coverage monitor (core/class_monitor.h): the coverage figures on
// known counts, its argument checks, and on MNIST (PROXFLOW_MNIST_DIR) that it
// reads real digits as ten classes and a page of nines as one, from seeds
// fixed by the run seed, the same at every evaluation of a Trainer.
#include "core/class_monitor.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/metric_names.h"
#include "core/mnist_quality.h"
#include "core/options_resolver.h"
#include "core/trainer.h"
#include "proxflow/v1/config.pb.h"

namespace proxflow::core {
namespace {

namespace pb = ::proxflow::v1;

Coverage FromCounts(const std::array<int64_t, 10>& counts) {
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  at::Tensor p = at::zeros({n, 10});
  int64_t row = 0;
  for (int k = 0; k < 10; ++k)
    for (int64_t i = 0; i < counts[k]; ++i) p[row++][k] = 1.0f;
  return ClassCoverage(p);
}

TEST(ClassCoverageFigures, HalfShareLargestShareAndEntropy) {
  // 100 images: digit 0 holds 50, digit 1 holds 5 (exactly half of a uniform
  // share of 10), digit 2 holds 4 (below), the rest 41 over digits 3..9.
  const Coverage c = FromCounts({50, 5, 4, 6, 6, 6, 6, 6, 6, 5});
  EXPECT_EQ(c.n, 100);
  EXPECT_EQ(ClassesHoldingHalfShare(c, {}), 9);  // all but digit 2
  EXPECT_DOUBLE_EQ(c.largest_share, 0.5);
  double entropy = 0;
  for (double share :
       {0.5, 0.05, 0.04, 0.06, 0.06, 0.06, 0.06, 0.06, 0.06, 0.05})
    entropy -= share * std::log(share);
  EXPECT_NEAR(c.entropy, entropy, 1e-12);
  // Over the run's classes {0, 2}: half a share is 100 / 4 = 25.
  EXPECT_EQ(ClassesHoldingHalfShare(c, {0, 2}), 1);
  EXPECT_EQ(
      ClassesHoldingHalfShare(FromCounts({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}), {}),
      10);

  const Coverage uniform = FromCounts({7, 7, 7, 7, 7, 7, 7, 7, 7, 7});
  EXPECT_NEAR(uniform.entropy, std::log(10.0), 1e-12);
  EXPECT_DOUBLE_EQ(uniform.largest_share, 0.1);
  const Coverage nines = FromCounts({0, 0, 0, 0, 0, 0, 0, 0, 0, 30});
  EXPECT_EQ(nines.entropy, 0.0);
  EXPECT_EQ(ClassesHoldingHalfShare(nines, {}), 1);
  EXPECT_DOUBLE_EQ(nines.largest_share, 1.0);
  EXPECT_EQ(ClassesHoldingHalfShare(Coverage{}, {}), 0) << "no images";
}

TEST(ClassMonitorArguments, RejectsFewSamplesBadLabelsAndSmallDatasets) {
  const MnistImages small{at::zeros({500, 784}), at::zeros({500}, at::kLong)};
  ClassMonitorOptions o;
  o.samples = 9;
  auto few = ClassMonitor::Create(small, o);
  EXPECT_EQ(few.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(few.status().message().find("got 9"), std::string::npos)
      << few.status();
  o.samples = 10;
  o.labels = {3, 12};
  auto label = ClassMonitor::Create(small, o);
  EXPECT_EQ(label.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(label.status().message().find("got 12"), std::string::npos)
      << label.status();
  o.labels = {};
  auto images = ClassMonitor::Create(small, o);
  EXPECT_EQ(images.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(images.status().message().find("got 500"), std::string::npos)
      << images.status();
}

class ClassMonitorMnist : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("PROXFLOW_MNIST_DIR");
    if (dir == nullptr || *dir == '\0') {
      GTEST_SKIP()
          << "PROXFLOW_MNIST_DIR is unset: MNIST class monitor test skipped";
    }
    dir_ = dir;
    auto mnist = LoadMnist(dir_);
    ASSERT_TRUE(mnist.ok()) << mnist.status();
    mnist_ = *std::move(mnist);
    cache_ = (std::filesystem::temp_directory_path() /
              ("proxflow-class-monitor-test-" + std::to_string(::getpid())))
                 .string();
  }
  void TearDown() override {
    if (!cache_.empty()) std::filesystem::remove_all(cache_);
  }

  ClassMonitorOptions Options(uint64_t seed) const {
    ClassMonitorOptions o;
    o.samples = 200;
    o.seed = seed;
    o.cache_dir = cache_;
    o.classifier_epochs = 1;  // ~97 % held-out accuracy, a few seconds
    o.device = "cpu";
    return o;
  }

  std::string dir_;
  MnistImages mnist_;
  std::string cache_;
};

std::vector<std::string> Names(const Metrics& m) {
  std::vector<std::string> names;
  for (const auto& [name, value] : m.values) names.push_back(name);
  return names;
}

double Find(const std::vector<std::pair<std::string, double>>& metrics,
            const std::string& name) {
  for (const auto& [n, v] : metrics)
    if (n == name) return v;
  ADD_FAILURE() << "no metric " << name;
  return NAN;
}

TEST_F(ClassMonitorMnist, ReadsRealDigitsAsTenClassesAndNinesAsOne) {
  auto monitor = ClassMonitor::Create(mnist_, Options(0));
  ASSERT_TRUE(monitor.ok()) << monitor.status();
  // Held-out digits (images 8000..8999; the reference is 6000..9999).
  auto real = (*monitor)->Measure(mnist_.images.narrow(0, 8000, 1000));
  ASSERT_TRUE(real.ok()) << real.status();
  ASSERT_EQ(real->size(), 4u);
  EXPECT_EQ((*real)[0].first, kClassCoverageMetric);
  EXPECT_EQ((*real)[1].first, kLargestClassShareMetric);
  EXPECT_EQ((*real)[2].first, kClassEntropyMetric);
  EXPECT_EQ((*real)[3].first, kFrechetMetric);
  EXPECT_EQ(Find(*real, kClassCoverageMetric), 10);
  EXPECT_LT(Find(*real, kLargestClassShareMetric), 0.2);
  EXPECT_GT(Find(*real, kClassEntropyMetric), 2.2);  // log 10 = 2.303

  // A page of nines from the classifier's own training images.
  const at::Tensor first = mnist_.images.narrow(0, 0, 6000);
  const at::Tensor nines =
      first.index({mnist_.labels.narrow(0, 0, 6000) == 9}).narrow(0, 0, 500);
  auto collapsed = (*monitor)->Measure(nines);
  ASSERT_TRUE(collapsed.ok()) << collapsed.status();
  EXPECT_EQ(Find(*collapsed, kClassCoverageMetric), 1);
  EXPECT_GT(Find(*collapsed, kLargestClassShareMetric), 0.9);
  EXPECT_LT(Find(*collapsed, kClassEntropyMetric), 0.4);
  EXPECT_GT(Find(*collapsed, kFrechetMetric), 10 * Find(*real, kFrechetMetric));

  // What a user sees: NaN pixels are black, values beyond [0, 1] clamped, so
  // a NaN page reads as one class (blank images), never as NaN metrics.
  auto blank = (*monitor)->Measure(at::full({50, 784}, NAN));
  ASSERT_TRUE(blank.ok()) << blank.status();
  EXPECT_EQ(Find(*blank, kClassCoverageMetric), 1);
  EXPECT_TRUE(std::isfinite(Find(*blank, kFrechetMetric)));
}

TEST_F(ClassMonitorMnist, CountsOnlyTheRunsClasses) {
  ClassMonitorOptions o = Options(0);
  o.labels = {3, 5};
  auto monitor = ClassMonitor::Create(mnist_, o);
  ASSERT_TRUE(monitor.ok()) << monitor.status();
  const at::Tensor labels = mnist_.labels.narrow(0, 8000, 2000);
  const at::Tensor images = mnist_.images.narrow(0, 8000, 2000);
  auto both =
      (*monitor)->Measure(images.index({(labels == 3) | (labels == 5)}));
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(Find(*both, kClassCoverageMetric), 2);
  auto threes = (*monitor)->Measure(images.index({labels == 3}));
  ASSERT_TRUE(threes.ok()) << threes.status();
  EXPECT_EQ(Find(*threes, kClassCoverageMetric), 1);
  // The reference holds only 3s and 5s: 3s alone are nearer than all digits.
  auto all = (*monitor)->Measure(images);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_LT(Find(*both, kFrechetMetric), Find(*all, kFrechetMetric));
}

TEST_F(ClassMonitorMnist, SeedsFollowTheRunSeed) {
  auto a = ClassMonitor::Create(mnist_, Options(7));
  auto b = ClassMonitor::Create(mnist_, Options(7));
  auto c = ClassMonitor::Create(mnist_, Options(8));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_EQ((*a)->seeds().size(), 200u);
  EXPECT_EQ((*a)->seeds(), (*b)->seeds());
  EXPECT_NE((*a)->seeds(), (*c)->seeds());
  EXPECT_NE((*a)->seeds()[0], (*a)->seeds()[1]);
}

TEST_F(ClassMonitorMnist,
       TrainerEvaluationsReportTheSameCoverageFromFixedSeeds) {
  pb::TrainingConfig c;
  c.set_preset("mnist");
  // The runtime's directory (the server's catalog) wins over the config's:
  // both the training pool and the monitor read it.
  c.mutable_dataset()->set_mnist_dir("/nonexistent/config-path");
  c.mutable_dataset()->set_subset_size(256);
  c.set_batch_size(32);
  c.set_eval_batch_size(64);
  c.mutable_critic()->set_steps_per_iteration(1);
  auto options = ResolveTrainOptions(c);
  ASSERT_TRUE(options.ok()) << options.status();
  RuntimeOptions runtime;
  runtime.device = "cpu";
  runtime.mnist_dir = dir_;
  runtime.classifier_cache_dir = cache_;
  runtime.classifier_epochs = 1;
  auto trainer = Trainer::Create(*options, runtime);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE((*trainer)->Step().ok());
  auto first = (*trainer)->Evaluate();
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = (*trainer)->Evaluate();
  ASSERT_TRUE(second.ok()) << second.status();
  for (const char* name : {kClassCoverageMetric, kLargestClassShareMetric,
                           kClassEntropyMetric, kFrechetMetric}) {
    const std::optional<double> v = first->Find(name);
    ASSERT_TRUE(v.has_value()) << name;
    EXPECT_EQ(*v, second->Find(name).value_or(NAN)) << name;
  }
  EXPECT_EQ(Names(*first), EvaluationMetricNames(*options))
      << "what registry.best_metric is checked against";
  const double coverage = *first->Find(kClassCoverageMetric);
  EXPECT_GE(coverage, 1);
  EXPECT_LE(coverage, 10);
  EXPECT_GE(*first->Find(kLargestClassShareMetric), 1.0 / 10);
  // One step from Glorot initialisation is noise, far from digits.
  EXPECT_GT(*first->Find(kFrechetMetric), 50);
}

TEST(MnistLocation, AnMnistRunWithoutADirectoryNamesBothWaysToGiveOne) {
  pb::TrainingConfig c;
  c.set_preset("mnist");
  auto options = ResolveTrainOptions(c);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->dataset.mnist_dir.empty());
  RuntimeOptions runtime;
  runtime.device = "cpu";
  auto trainer = Trainer::Create(*options, runtime);
  EXPECT_EQ(trainer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      trainer.status().message(),
      ::testing::AllOf(::testing::HasSubstr("training.dataset.mnist_dir"),
                       ::testing::HasSubstr("--datasets_root")));
}

TEST(EvaluationMetricNames, AreTheNamesEvaluateLogsAndToysHaveNoClassMetrics) {
  const auto configure = [](const char* preset, bool velocity) {
    pb::TrainingConfig c;
    c.set_preset(preset);
    c.set_batch_size(32);
    c.set_eval_batch_size(64);
    if (velocity) {
      c.mutable_generator()->set_form(pb::GENERATOR_FORM_DIRECT_VELOCITY);
      c.mutable_flow()->set_loss_case(pb::LOSS_CASE_OT);
    }
    return c;
  };
  for (const auto& [preset, velocity] :
       {std::pair{"toy-2d", false}, {"toy-2d", true}, {"manifold-7d", false}}) {
    auto options = ResolveTrainOptions(configure(preset, velocity));
    ASSERT_TRUE(options.ok()) << options.status();
    auto trainer = Trainer::Create(*options, {"cpu", "", "fp32"});
    ASSERT_TRUE(trainer.ok()) << trainer.status();
    auto metrics = (*trainer)->Evaluate();
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    EXPECT_EQ(Names(*metrics), EvaluationMetricNames(*options))
        << preset << (velocity ? " velocity" : " potential");
    EXPECT_FALSE(metrics->Find(kClassCoverageMetric).has_value());
    EXPECT_FALSE(metrics->Find(kFrechetMetric).has_value());
  }
}

}  // namespace
}  // namespace proxflow::core
