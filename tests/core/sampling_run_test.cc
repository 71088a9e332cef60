// SamplingRun: the batch invariance the sampling service's determinism rests
// on (a row's values never depend on the rows it is computed with), for MLP and
// conv flows in both generator forms, with two intra-op threads; and a run
// taken a step at a time equals Integrate.
#include "core/sampling_run.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/datasets.h"
#include "core/device.h"
#include "core/options_resolver.h"
#include "core/random_streams.h"
#include "core/rowwise_field.h"
#include "core/trainer_impl.h"

namespace proxflow::core {
namespace {

namespace pb = ::proxflow::v1;

struct Case {
  const char* preset;
  pb::GeneratorForm form;
};

class SamplingRunTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    threads_ = at::get_num_threads();
    at::set_num_threads(2);
    pb::TrainingConfig c;
    c.set_preset(GetParam().preset);
    c.mutable_dataset()->set_mnist_dir("/unused");  // networks only, no data
    c.mutable_generator()->set_form(GetParam().form);
    auto options = ResolveTrainOptions(c);
    ASSERT_TRUE(options.ok()) << options.status();
    options_ = *options;
    at::manual_seed(3);
    nets_ = MakeNetworks(options_);
    // As FlowModel holds them: inference weights.
    for (auto& p : nets_.generator->parameters()) p.set_requires_grad(false);
    flow_ = std::make_unique<Flow>(nets_.generator, options_.generator.form,
                                   options_.flow.lambda);
  }
  void TearDown() override { at::set_num_threads(threads_); }

  // Rows of `seeds` after all steps, computed as one run.
  std::vector<float> Run(const std::vector<uint64_t>& seeds, Solver solver,
                         int steps) {
    auto run = SamplingRunFactory::Start(*flow_, options_, c10::Device("cpu"),
                                         seeds, solver, steps);
    EXPECT_TRUE(run.ok()) << run.status();
    while (!(*run)->done()) EXPECT_TRUE((*run)->Step().ok());
    auto points = (*run)->Points();
    EXPECT_TRUE(points.ok()) << points.status();
    EXPECT_EQ(points->n, static_cast<int64_t>(seeds.size()));
    return points->values;
  }

  int64_t dimension() const { return options_.dataset.dimension; }

  int threads_ = 1;
  TrainOptions options_;
  Networks nets_;
  std::unique_ptr<Flow> flow_;
};

TEST_P(SamplingRunTest, ARowDoesNotDependOnTheRowsBesideIt) {
  const int kRows = 37;  // odd: exercises padding at the end
  std::vector<uint64_t> seeds(kRows);
  std::iota(seeds.begin(), seeds.end(), 1000);
  const int steps = 3;
  const std::vector<float> all = Run(seeds, Solver::kHeun, steps);
  const int64_t d = dimension();
  for (const int threads : {2, 3}) {  // other chunkings of the same rows
    at::set_num_threads(threads);
    // Windows of other sizes and offsets (1 row alone, odd sizes, quantum
    // multiples, a window starting mid-quantum).
    for (const auto& [begin, size] : std::vector<std::pair<int, int>>{
             {0, 1}, {36, 1}, {5, 3}, {3, 8}, {11, 13}, {1, 33}, {20, 17}}) {
      const std::vector<uint64_t> window(seeds.begin() + begin,
                                         seeds.begin() + begin + size);
      const std::vector<float> got = Run(window, Solver::kHeun, steps);
      const std::vector<float> want(all.begin() + begin * d,
                                    all.begin() + (begin + size) * d);
      EXPECT_EQ(got, want) << "rows " << begin << ".." << begin + size << " on "
                           << threads << " threads";
    }
  }
}

TEST_P(SamplingRunTest, DroppingRowsMidRunLeavesTheOthersUnchanged) {
  std::vector<uint64_t> seeds(19);
  std::iota(seeds.begin(), seeds.end(), 7);
  const std::vector<float> all = Run(seeds, Solver::kEuler, 4);
  auto run = SamplingRunFactory::Start(*flow_, options_, c10::Device("cpu"),
                                       seeds, Solver::kEuler, 4);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE((*run)->Step().ok());
  const std::vector<int64_t> keep = {0, 3, 4, 10, 18};
  ASSERT_TRUE((*run)->KeepRows(keep).ok());
  EXPECT_EQ((*run)->rows(), 5);
  while (!(*run)->done()) ASSERT_TRUE((*run)->Step().ok());
  auto points = (*run)->Points();
  ASSERT_TRUE(points.ok());
  const int64_t d = dimension();
  for (size_t i = 0; i < keep.size(); ++i) {
    const std::vector<float> got(points->values.begin() + i * d,
                                 points->values.begin() + (i + 1) * d);
    const std::vector<float> want(all.begin() + keep[i] * d,
                                  all.begin() + (keep[i] + 1) * d);
    EXPECT_EQ(got, want) << "kept row " << keep[i];
  }
  EXPECT_EQ((*run)->KeepRows({2, 1}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*run)->KeepRows({5}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*run)->Step().code(), absl::StatusCode::kFailedPrecondition);
}

INSTANTIATE_TEST_SUITE_P(
    Flows, SamplingRunTest,
    ::testing::Values(Case{"toy-2d", pb::GENERATOR_FORM_POTENTIAL},
                      Case{"manifold-7d", pb::GENERATOR_FORM_DIRECT_VELOCITY},
                      Case{"mnist", pb::GENERATOR_FORM_POTENTIAL},
                      Case{"mnist", pb::GENERATOR_FORM_DIRECT_VELOCITY}),
    [](const auto& info) {
      std::string name = info.param.preset;
      name += info.param.form == pb::GENERATOR_FORM_POTENTIAL ? "_potential"
                                                              : "_velocity";
      for (char& c : name)
        if (c == '-') c = '_';
      return name;
    });

TEST(SamplingRun, StepwiseEqualsIntegrate) {
  pb::TrainingConfig c;
  c.set_preset("toy-2d");
  auto options = ResolveTrainOptions(c);
  ASSERT_TRUE(options.ok());
  at::manual_seed(5);
  Networks nets = MakeNetworks(*options);
  Flow flow(nets.generator, options->generator.form, options->flow.lambda);
  const std::vector<uint64_t> seeds = {1, 2, 3, 4, 5, 6, 7, 8};
  auto run = SamplingRunFactory::Start(flow, *options, c10::Device("cpu"),
                                       seeds, Solver::kRk4, 6);
  ASSERT_TRUE(run.ok());
  EXPECT_DOUBLE_EQ((*run)->dt(), options->flow.horizon / 6);
  while (!(*run)->done()) ASSERT_TRUE((*run)->Step().ok());
  const at::Tensor x0 = SourceFromSeeds(options->source, 2, seeds);
  const PointSamples want =
      ToPoints(Integrate(Solver::kRk4, *RowwiseVelocityField(flow), x0, 0.0,
                         options->flow.horizon / 6, 6)
                   .final);
  EXPECT_EQ((*run)->Points()->values, want.values);
  EXPECT_EQ(SamplingRunFactory::Start(flow, *options, c10::Device("cpu"), seeds,
                                      Solver::kEuler, 0)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// Each row of the source is its seed's own draw, whatever LibTorch's thread
// count (the contract a parallel fill of the rows must keep).
TEST(SamplingRun, SourceRowsAreTheirSeedsDrawsAtAnyThreadCount) {
  // Normal sources of even and odd dimension (a cached second normal sample
  // must not leak into the next row), and a uniform one.
  for (const char* preset : {"toy-2d", "manifold-7d", "mnist"}) {
    pb::TrainingConfig c;
    c.set_preset(preset);
    c.mutable_dataset()->set_mnist_dir("/unused");
    auto options = ResolveTrainOptions(c);
    ASSERT_TRUE(options.ok());
    const int64_t d = options->dataset.dimension;
    std::vector<uint64_t> seeds(100);
    std::iota(seeds.begin(), seeds.end(), 1000);
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    const at::Tensor serial = SourceFromSeeds(options->source, d, seeds);
    at::set_num_threads(2);
    const at::Tensor parallel = SourceFromSeeds(options->source, d, seeds);
    at::set_num_threads(threads);
    EXPECT_TRUE(at::equal(serial, parallel)) << preset;
    for (const int64_t i : {0, 37, 99}) {
      at::Generator gen = MakeCpuGenerator(seeds[i]);
      EXPECT_TRUE(
          at::equal(parallel[i], SampleSource(options->source, 1, d, gen)[0]))
          << preset << " row " << i;
    }
  }
}

// On CUDA every evaluation runs on tiles of exactly kDeviceTileRows rows
// (cuBLAS and cuDNN pick kernels by shape; before the tiles an H200 gave the
// conv potential's samples differences of up to 2.6e-5 between 30 and 64 rows
// after 3 steps): rows agree with their batch bit for bit. TF32 is off.
TEST(Gpu, SamplingRowsDoNotDependOnTheirBatchOnCuda) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  for (const char* preset : {"toy-2d", "mnist"}) {
    pb::TrainingConfig c;
    c.set_preset(preset);
    c.mutable_dataset()->set_mnist_dir("/unused");
    auto options = ResolveTrainOptions(c);
    ASSERT_TRUE(options.ok());
    at::manual_seed(3);
    Networks nets = MakeNetworks(*options);
    nets.generator->to(c10::Device("cuda:0"));
    for (auto& p : nets.generator->parameters()) p.set_requires_grad(false);
    Flow flow(nets.generator, options->generator.form, options->flow.lambda);
    std::vector<uint64_t> seeds(64);
    std::iota(seeds.begin(), seeds.end(), 1);
    auto all = SampleFlow(flow, *options, c10::Device("cuda:0"), seeds,
                          Solver::kEuler, 3);
    ASSERT_TRUE(all.ok()) << all.status();
    const int64_t d = options->dataset.dimension;
    for (const auto& [begin, size] :
         std::vector<std::pair<int, int>>{{0, 1}, {5, 8}, {17, 30}}) {
      auto part =
          SampleFlow(flow, *options, c10::Device("cuda:0"),
                     std::vector<uint64_t>(seeds.begin() + begin,
                                           seeds.begin() + begin + size),
                     Solver::kEuler, 3);
      ASSERT_TRUE(part.ok());
      ASSERT_EQ(part->values.size(), static_cast<size_t>(size * d));
      float max_diff = 0;
      for (size_t i = 0; i < part->values.size(); ++i) {
        max_diff = std::max(
            max_diff, std::abs(part->values[i] - all->values[begin * d + i]));
      }
      EXPECT_EQ(max_diff, 0.0f) << preset << " rows " << begin << "+" << size;
    }
  }
}

}  // namespace
}  // namespace proxflow::core
