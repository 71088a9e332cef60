// The generator's moving average (generator.ema_decay, core/weight_average.h):
// the decay's warm-up, the update's bits against plain float arithmetic, and
// what a run does with it: training unchanged, evaluations, samples and
// FlowModel following the average, checkpoints resuming it bitwise, files
// that lack it refused.
#include "core/weight_average.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "core/checkpoint_file.h"
#include "core/flow_model.h"
#include "core/metric_names.h"
#include "core/options_resolver.h"
#include "core/trainer.h"
#include "tests/testing/small_trainer.h"

namespace proxflow::core {
namespace {

using ::testing::HasSubstr;
namespace pb = ::proxflow::v1;

TEST(WeightAverage, DecayWarmsUpThenHoldsTheConfiguredValue) {
  EXPECT_DOUBLE_EQ(AverageDecay(0.999, 0), 0.1);
  EXPECT_DOUBLE_EQ(AverageDecay(0.999, 10), 11.0 / 20.0);
  EXPECT_DOUBLE_EQ(AverageDecay(0.999, 990), 991.0 / 1000.0);
  EXPECT_DOUBLE_EQ(AverageDecay(0.9, 1000), 0.9);
  EXPECT_DOUBLE_EQ(AverageDecay(0.5, 8), 0.5);
}

// Two products and a sum, each rounded to float: what the update promises,
// whatever vector width LibTorch's kernels use (also run under the ISA caps,
// tests/CMakeLists.txt).
TEST(WeightAverage, UpdateIsTwoRoundedProductsAndARoundedSum) {
  for (const int64_t n : {1, 7, 8, 15, 16, 17, 31, 33, 1000, 1029}) {
    torch::nn::Linear average(n, 1), live(n, 1);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(n);
    {
      torch::NoGradGuard no_grad;
      average->weight.copy_(at::randn({1, n}, gen));
      live->weight.copy_(at::randn({1, n}, gen) * 3);
      average->bias.fill_(0.25);
      live->bias.fill_(-1.5);
    }
    const at::Tensor before = average->weight.clone();
    const int64_t version = average->weight._version();
    UpdateAverage(*average, *live, 0.9, 20);
    EXPECT_GT(average->weight._version(), version);  // caches see the change
    const float d = static_cast<float>(AverageDecay(0.9, 20));
    const float e = static_cast<float>(1.0 - AverageDecay(0.9, 20));
    const float* a = before.data_ptr<float>();
    const float* l = live->weight.data_ptr<float>();
    const float* got = average->weight.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      volatile float kept = a[i] * d;
      volatile float fresh = l[i] * e;
      const float want = kept + fresh;
      ASSERT_EQ(std::memcmp(&got[i], &want, sizeof(float)), 0)
          << "n=" << n << " i=" << i << ": " << got[i] << " vs " << want;
    }
    EXPECT_FLOAT_EQ(average->bias.item<float>(), 0.25f * d + -1.5f * e);
  }
}

pb::TrainingConfig SmallConfig(double ema_decay) {
  pb::TrainingConfig c = testing::SmallToyConfig(10);
  c.mutable_generator()->set_ema_decay(ema_decay);
  return c;
}

std::unique_ptr<Trainer> MakeTrainer(const pb::TrainingConfig& c) {
  return testing::MakeSmallTrainer(c);
}

std::string Checkpoint(const Trainer& t) {
  auto bytes = t.SerializeCheckpoint();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.value_or("");
}

// The float32 tensors of a checkpoint under "<prefix>/", by name below it.
std::map<std::string, at::Tensor> Tensors(const std::string& bytes,
                                          const std::string& prefix) {
  auto file = ParseCheckpointFile(bytes);
  EXPECT_TRUE(file.ok()) << file.status();
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, entry] : file->tensors) {
    if (!absl::StartsWith(name, prefix + "/")) continue;
    EXPECT_EQ(entry.first->dtype(), pb::TENSOR_DTYPE_FLOAT32) << name;
    const std::vector<int64_t> shape(entry.first->shape().begin(),
                                     entry.first->shape().end());
    at::Tensor t = at::empty(shape, at::kFloat);
    std::memcpy(t.data_ptr(), entry.second.data(), entry.second.size());
    out[name.substr(prefix.size() + 1)] = t;
  }
  return out;
}

bool SameBytes(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() &&
         std::memcmp(a.data_ptr(), b.data_ptr(), a.nbytes()) == 0;
}

TEST(WeightAverage, TrainingIsUnchangedAndEverySampleFollowsTheAverage) {
  constexpr double kDecay = 0.95;
  auto plain = MakeTrainer(SmallConfig(0));
  auto averaged = MakeTrainer(SmallConfig(kDecay));
  // The average before any step is the initial weights.
  std::map<std::string, at::Tensor> want =
      Tensors(Checkpoint(*averaged), "generator");
  EXPECT_EQ(Tensors(Checkpoint(*plain), "generator_ema").size(), 0u);
  for (int k = 0; k < 4; ++k) {
    auto mp = plain->Step();
    auto ma = averaged->Step();
    ASSERT_TRUE(mp.ok() && ma.ok());
    ASSERT_EQ(mp->values.size(), ma->values.size());
    for (size_t i = 0; i < mp->values.size(); ++i)  // training unchanged
      EXPECT_EQ(mp->values[i].second, ma->values[i].second)
          << mp->values[i].first << " at step " << k;
    const std::string bytes = Checkpoint(*averaged);
    const auto live = Tensors(bytes, "generator");
    const auto plain_live = Tensors(Checkpoint(*plain), "generator");
    const double d = AverageDecay(kDecay, k);
    for (auto& [name, average] : want) {
      ASSERT_TRUE(live.count(name)) << name;
      EXPECT_TRUE(SameBytes(live.at(name), plain_live.at(name))) << name;
      average = average.mul(d).add(live.at(name).mul(1.0 - d));
    }
    const auto stored = Tensors(bytes, "generator_ema");
    ASSERT_EQ(stored.size(), want.size());
    for (const auto& [name, average] : want)
      EXPECT_TRUE(SameBytes(stored.at(name), average))
          << name << " after step " << k;
  }
  // Samples: the average's, not the live weights'; FlowModel samples what the
  // trainer samples, bitwise.
  const std::vector<uint64_t> seeds = {3, 4, 5, 6};
  auto from_plain = plain->Sample(seeds, Solver::kEuler, 5);
  auto from_averaged = averaged->Sample(seeds, Solver::kEuler, 5);
  ASSERT_TRUE(from_plain.ok() && from_averaged.ok());
  EXPECT_NE(from_plain->values, from_averaged->values);
  auto model = FlowModel::Load(Checkpoint(*averaged), "cpu");
  ASSERT_TRUE(model.ok()) << model.status();
  auto from_model = (*model)->Sample(seeds, Solver::kEuler, 5);
  ASSERT_TRUE(from_model.ok());
  EXPECT_EQ(from_model->values, from_averaged->values);
  // Evaluations measure the average too.
  auto ep = plain->Evaluate();
  auto ea = averaged->Evaluate();
  ASSERT_TRUE(ep.ok() && ea.ok());
  EXPECT_NE(ep->Find("sinkhorn"), ea->Find("sinkhorn"));
  // ... and the live weights beside it: the plain run's value.
  ASSERT_TRUE(ea->Find("live_sinkhorn").has_value());
  EXPECT_NEAR(*ea->Find("live_sinkhorn"), *ep->Find("sinkhorn"),
              1e-5 * std::abs(*ep->Find("sinkhorn")));
  EXPECT_FALSE(ep->Find("live_sinkhorn").has_value());
  std::vector<std::string> names;
  for (const auto& [name, value] : ea->values) names.push_back(name);
  EXPECT_EQ(names, EvaluationMetricNames(averaged->options()));
}

TEST(WeightAverage, ResumeContinuesTheAverageBitwise) {
  auto straight = MakeTrainer(SmallConfig(0.9));
  for (int k = 0; k < 6; ++k) ASSERT_TRUE(straight->Step().ok());
  auto first = MakeTrainer(SmallConfig(0.9));
  for (int k = 0; k < 3; ++k) ASSERT_TRUE(first->Step().ok());
  auto resumed = Trainer::FromCheckpoint(Checkpoint(*first), {"cpu", ""});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  for (int k = 0; k < 3; ++k) ASSERT_TRUE((*resumed)->Step().ok());
  const auto want = Tensors(Checkpoint(*straight), "generator_ema");
  const auto got = Tensors(Checkpoint(**resumed), "generator_ema");
  ASSERT_FALSE(want.empty());
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, t] : want)
    EXPECT_TRUE(SameBytes(got.at(name), t)) << name;
  auto a = straight->Sample({1, 2, 3}, Solver::kRk4, 7);
  auto b = (*resumed)->Sample({1, 2, 3}, Solver::kRk4, 7);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->values, b->values);
}

TEST(WeightAverage, ACheckpointWhoseConfigClaimsAnAverageItLacksIsRefused) {
  auto plain = MakeTrainer(SmallConfig(0));
  ASSERT_TRUE(plain->Step().ok());
  const std::string bytes = Checkpoint(*plain);
  auto file = ParseCheckpointFile(bytes);
  ASSERT_TRUE(file.ok());
  CheckpointFileWriter w;
  for (const auto& [name, entry] : file->tensors) {
    w.Add(name, entry.first->dtype(),
          {entry.first->shape().begin(), entry.first->shape().end()},
          entry.second);
  }
  pb::CheckpointHeader header = file->header;
  header.mutable_config()->mutable_generator()->set_ema_decay(0.99);
  const std::string forged = w.Finish(header);
  for (const absl::Status& status :
       {FlowModel::Load(forged, "cpu").status(),
        Trainer::FromCheckpoint(forged, {"cpu", ""}).status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("generator_ema"));
  }
}

}  // namespace
}  // namespace proxflow::core
