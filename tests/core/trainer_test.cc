// The trainer: resume determinism (on one thread and data-parallel on two),
// data-parallel steps against one-thread steps, outcomes (diverged,
// cancelled), checkpoint validation, and a seeded training run that measurably
// learns 8 gaussians.
#include "core/trainer.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/flow_model.h"
#include "core/metrics.h"
#include "core/options_resolver.h"
#include "tests/testing/small_trainer.h"

namespace proxflow::core {
namespace {

using ::testing::HasSubstr;
namespace pb = ::proxflow::v1;

pb::TrainingConfig SmallConfig(int64_t iterations) {
  return testing::SmallToyConfig(iterations);
}

std::unique_ptr<Trainer> MakeTrainer(const pb::TrainingConfig& c) {
  return testing::MakeSmallTrainer(c);
}

std::vector<Metrics> Steps(Trainer& t, int n) {
  std::vector<Metrics> out;
  for (int i = 0; i < n; ++i) {
    auto m = t.Step();
    EXPECT_TRUE(m.ok()) << m.status();
    out.push_back(*m);
  }
  return out;
}

TEST(Trainer, ResumeFromCheckpointIsBitwiseIdentical) {
  pb::TrainingConfig c = SmallConfig(8);
  c.mutable_flow()->set_loss_case(pb::LOSS_CASE_OC);  // every loss term in play
  auto straight = MakeTrainer(c);
  const std::vector<Metrics> all = Steps(*straight, 6);

  auto first = MakeTrainer(c);
  Steps(*first, 3);
  auto bytes = first->SerializeCheckpoint();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  first.reset();
  auto resumed = Trainer::FromCheckpoint(*bytes, {"cpu", ""});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ((*resumed)->iteration(), 3);
  const std::vector<Metrics> rest = Steps(**resumed, 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rest[i].iteration, all[i + 3].iteration);
    ASSERT_EQ(rest[i].values.size(), all[i + 3].values.size());
    for (size_t k = 0; k < rest[i].values.size(); ++k) {
      EXPECT_EQ(rest[i].values[k].second,
                all[i + 3].values[k].second)  // bitwise
          << rest[i].values[k].first << " at iteration " << rest[i].iteration;
    }
  }
  auto a = straight->Sample({1, 2, 3}, Solver::kRk4, 7);
  auto b = (*resumed)->Sample({1, 2, 3}, Solver::kRk4, 7);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->values, b->values);
}

// Sets LibTorch's thread count for a scope (a trainer cuts its steps into one
// data-parallel shard per thread).
class ScopedThreads {
 public:
  explicit ScopedThreads(int n) : previous_(at::get_num_threads()) {
    at::set_num_threads(n);
  }
  ~ScopedThreads() { at::set_num_threads(previous_); }

 private:
  int previous_;
};

// Every loss term and both non-separable critic objectives (Donsker–Varadhan's
// log-mean-exp, the terminal residual's norm) through the sharded steps.
pb::TrainingConfig DataParallelConfig(int variant) {
  pb::TrainingConfig c = SmallConfig(2);
  switch (variant) {
    case 0:  // defaults: KL (Donsker–Varadhan), one-sided penalty, OT
      break;
    case 1:
      c.mutable_flow()->set_loss_case(pb::LOSS_CASE_OC);
      c.mutable_critic()->set_lipschitz_mode(
          pb::LIPSCHITZ_MODE_TWO_SIDED_PENALTY);
      break;
    case 2:
      c.mutable_flow()->set_loss_case(pb::LOSS_CASE_PG);
      c.mutable_critic()->set_divergence(pb::DIVERGENCE_ALPHA);
      break;
    case 3:
      c.mutable_flow()->set_loss_case(pb::LOSS_CASE_NO_OT);
      c.mutable_generator()->set_form(pb::GENERATOR_FORM_DIRECT_VELOCITY);
      c.mutable_critic()->set_lipschitz_mode(pb::LIPSCHITZ_MODE_SPECTRAL_NORM);
      c.mutable_critic()->set_divergence(pb::DIVERGENCE_W1);
      break;
  }
  return c;
}

TEST(Trainer, DataParallelStepsComputeTheOneThreadSteps) {
  for (int variant = 0; variant < 4; ++variant) {
    pb::TrainingConfig c = DataParallelConfig(variant);
    // Updates too small to amplify rounding (Adam's first steps move a weight
    // by ~lr whatever its gradient's size): every loss term is compared.
    c.mutable_critic()->set_learning_rate(1e-9);
    c.mutable_generator()->set_learning_rate(1e-9);
    std::vector<Metrics> one, three;
    {
      ScopedThreads threads(1);
      one = Steps(*MakeTrainer(c), 2);
    }
    {
      ScopedThreads threads(3);  // shards of 22, 21 and 21 rows
      three = Steps(*MakeTrainer(c), 2);
    }
    ASSERT_EQ(one.size(), three.size());
    for (size_t i = 0; i < one.size(); ++i) {
      ASSERT_EQ(one[i].values.size(), three[i].values.size());
      for (size_t k = 0; k < one[i].values.size(); ++k) {
        const auto& [name, expected] = one[i].values[k];
        // Float rounding only: a wrong weight or norm would be 1e-3 off.
        EXPECT_NEAR(three[i].values[k].second, expected,
                    1e-5 * std::abs(expected) + 1e-7)
            << name << " at iteration " << one[i].iteration << ", variant "
            << variant;
      }
    }
  }
}

TEST(Trainer, DataParallelResumeIsBitwiseIdentical) {
  ScopedThreads threads(2);
  pb::TrainingConfig c = SmallConfig(8);
  c.mutable_flow()->set_loss_case(pb::LOSS_CASE_OC);
  const std::vector<Metrics> all = Steps(*MakeTrainer(c), 6);
  auto first = MakeTrainer(c);
  const std::vector<Metrics> head = Steps(*first, 3);
  auto bytes = first->SerializeCheckpoint();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto resumed = Trainer::FromCheckpoint(*bytes, {"cpu", ""});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  std::vector<Metrics> again = head;
  for (const Metrics& m : Steps(**resumed, 3)) again.push_back(m);
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(again[i].values.size(), all[i].values.size());
    for (size_t k = 0; k < all[i].values.size(); ++k) {
      EXPECT_EQ(again[i].values[k].second, all[i].values[k].second)  // bitwise
          << all[i].values[k].first << " at iteration " << all[i].iteration;
    }
  }
}

TEST(Trainer, SamplesDependOnlyOnTheirSeeds) {
  auto t = MakeTrainer(SmallConfig(1));
  auto both = t->Sample({5, 9}, Solver::kEuler, 5);
  auto alone = t->Sample({9}, Solver::kEuler, 5);
  ASSERT_TRUE(both.ok() && alone.ok());
  EXPECT_EQ(both->n, 2);
  EXPECT_EQ(both->dimension, 2);
  // Same starting point and flow; BLAS kernels differ with the batch size, so
  // the values agree to float rounding here (bitwise batch invariance is the
  // sampling engine's job).
  EXPECT_NEAR(both->values[2], alone->values[0], 1e-5);
  EXPECT_NEAR(both->values[3], alone->values[1], 1e-5);
  EXPECT_GT(std::abs(both->values[0] - alone->values[0]),
            1e-3);  // a different seed differs
  EXPECT_EQ(t->Sample({1}, Solver::kEuler, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Trainer, SamplePathEndsWhereSampleEndsAndStepsFromTheSource) {
  auto t = MakeTrainer(SmallConfig(1));
  auto path = t->SamplePath({5, 9}, Solver::kEuler, 4);
  auto final = t->Sample({5, 9}, Solver::kEuler, 4);
  auto start = t->SourcePoints({5, 9});
  ASSERT_TRUE(path.ok() && final.ok() && start.ok());
  ASSERT_EQ(path->size(), 4u);
  EXPECT_EQ(path->back().values, final->values);  // bitwise
  for (const PointSamples& state : *path) {
    EXPECT_EQ(state.n, 2);
    EXPECT_EQ(state.values.size(), 4u);
    EXPECT_NE(state.values, start->values);  // every step moves the points
  }
  EXPECT_NE((*path)[0].values, (*path)[1].values);
  EXPECT_EQ(t->SamplePath({1}, Solver::kEuler, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Trainer, NonFiniteRunEndsDivergedNotCrashed) {
  pb::TrainingConfig c = SmallConfig(5);
  c.mutable_flow()->set_lambda(1e-300);  // v = −∇U/λ overflows at once
  auto t = MakeTrainer(c);
  auto result = t->Run({}, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, RunOutcome::kDiverged);
  EXPECT_EQ(result->iteration, 1);
  EXPECT_THAT(result->reason, HasSubstr("diverged at iteration 1"));
}

TEST(Trainer, CancelStopsAndCheckpoints) {
  auto t = MakeTrainer(SmallConfig(100));
  std::atomic<bool> cancel{false};
  std::vector<int64_t> checkpoints;
  RunHooks hooks;
  hooks.on_log = [&](const Metrics& m) {
    if (m.iteration == 4) cancel = true;
  };
  hooks.on_checkpoint = [&](int64_t it) {
    checkpoints.push_back(it);
    return absl::OkStatus();
  };
  auto result = t->Run(hooks, &cancel);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, RunOutcome::kCancelled);
  EXPECT_EQ(result->iteration, 4);
  EXPECT_EQ(checkpoints, std::vector<int64_t>{4});
}

TEST(Trainer, RunInvokesHooksOnSchedule) {
  pb::TrainingConfig c = SmallConfig(6);
  c.set_log_interval(2);
  c.set_eval_interval(3);
  c.set_checkpoint_interval(4);
  auto t = MakeTrainer(c);
  std::vector<int64_t> logs, evals, checkpoints;
  RunHooks hooks;
  hooks.on_log = [&](const Metrics& m) { logs.push_back(m.iteration); };
  hooks.on_eval = [&](const Metrics& m) {
    evals.push_back(m.iteration);
    for (const char* name :
         {"divergence", "divergence_half_dt", "kinetic_energy", "hjb",
          "terminal", "straightness", "drift_half_dt", "path_kinetic_energy"}) {
      EXPECT_TRUE(m.Find(name).has_value()) << name;
    }
  };
  hooks.on_checkpoint = [&](int64_t it) {
    checkpoints.push_back(it);
    return absl::OkStatus();
  };
  auto result = t->Run(hooks, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, RunOutcome::kCompleted);
  EXPECT_EQ(logs, (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(evals, (std::vector<int64_t>{3, 6}));
  EXPECT_EQ(checkpoints, (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(t->history().size(), 2u);
  // The history survives a checkpoint round trip.
  auto bytes = t->SerializeCheckpoint();
  ASSERT_TRUE(bytes.ok());
  auto restored = Trainer::FromCheckpoint(*bytes, {"cpu", ""});
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_EQ((*restored)->history().size(), 2u);
  EXPECT_EQ((*restored)->history()[1].Find("straightness"),
            t->history()[1].Find("straightness"));
}

TEST(Trainer, CheckpointRejectsForeignBytes) {
  auto garbage =
      Trainer::FromCheckpoint("definitely not a checkpoint", {"cpu", ""});
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
  auto empty = Trainer::FromCheckpoint("", {"cpu", ""});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  auto t = MakeTrainer(SmallConfig(1));
  auto bytes = t->SerializeCheckpoint();
  ASSERT_TRUE(bytes.ok());
  const std::string truncated = bytes->substr(0, bytes->size() / 2);
  auto cut = Trainer::FromCheckpoint(truncated, {"cpu", ""});
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Trainer, InspectReadsACheckpointWithoutItsData) {
  auto t = MakeTrainer(SmallConfig(2));
  Steps(*t, 2);
  ASSERT_TRUE(t->Evaluate().ok());
  auto bytes = t->SerializeCheckpoint();
  ASSERT_TRUE(bytes.ok());
  auto summary = InspectCheckpoint(*bytes);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->iteration, 2);
  EXPECT_FALSE(summary->torch_version.empty());
  EXPECT_EQ(summary->config.seed(), 42u);
  ASSERT_EQ(summary->history.size(), 1u);
  EXPECT_TRUE(summary->history[0].Find("sinkhorn").has_value());
  for (const std::string& bad :
       {std::string("nope"), bytes->substr(0, bytes->size() / 2)}) {
    EXPECT_EQ(InspectCheckpoint(bad).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(Trainer, ACopiedCheckpointSamplesIdentically) {
  // What moving a registry version between servers relies on: the same bytes
  // restore the same flow, so the same seeds give the same points, bitwise.
  auto t = MakeTrainer(SmallConfig(3));
  Steps(*t, 3);
  auto bytes = t->SerializeCheckpoint();
  ASSERT_TRUE(bytes.ok());
  const std::string copy(bytes->begin(), bytes->end());
  auto a = Trainer::FromCheckpoint(*bytes, {"cpu", ""});
  auto b = Trainer::FromCheckpoint(copy, {"cpu", ""});
  ASSERT_TRUE(a.ok() && b.ok());
  auto sa = (*a)->Sample({11, 12, 13}, Solver::kHeun, 9);
  auto sb = (*b)->Sample({11, 12, 13}, Solver::kHeun, 9);
  auto st = t->Sample({11, 12, 13}, Solver::kHeun, 9);
  ASSERT_TRUE(sa.ok() && sb.ok() && st.ok());
  EXPECT_EQ(sa->values, sb->values);
  EXPECT_EQ(sa->values, st->values);
}

TEST(FlowModel, SamplesExactlyLikeTheTrainerThatWroteIt) {
  for (const auto form :
       {pb::GENERATOR_FORM_POTENTIAL, pb::GENERATOR_FORM_DIRECT_VELOCITY}) {
    pb::TrainingConfig c = SmallConfig(3);
    c.mutable_generator()->set_form(form);
    auto t = MakeTrainer(c);
    Steps(*t, 3);
    auto bytes = t->SerializeCheckpoint();
    ASSERT_TRUE(bytes.ok());
    auto model = FlowModel::Load(*bytes, "cpu");
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_EQ((*model)->iteration(), 3);
    EXPECT_EQ((*model)->device(), "cpu");
    EXPECT_EQ((*model)->options().generator.form, t->options().generator.form);
    EXPECT_GT((*model)->parameter_bytes(), 0);
    for (const Solver solver : {Solver::kEuler, Solver::kRk4}) {
      auto from_model = (*model)->Sample({4, 5, 6, 7}, solver, 6);
      auto from_trainer = t->Sample({4, 5, 6, 7}, solver, 6);
      ASSERT_TRUE(from_model.ok() && from_trainer.ok());
      EXPECT_EQ(from_model->values, from_trainer->values);  // bitwise
    }
    EXPECT_EQ((*model)->Sample({1}, Solver::kEuler, 0).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ((*model)->Sample({}, Solver::kEuler, 3).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(FlowModel::Load("junk", "cpu").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Trainer, FineTuningStartsFromTheParentsWeights) {
  auto parent = MakeTrainer(SmallConfig(5));
  Steps(*parent, 5);
  auto bytes = parent->SerializeCheckpoint();
  ASSERT_TRUE(bytes.ok());
  pb::TrainingConfig child_config = SmallConfig(5);
  child_config.set_seed(7);  // another random init, overwritten by the parent
  auto options = ResolveTrainOptions(child_config);
  ASSERT_TRUE(options.ok());
  auto child = Trainer::CreateFromWeights(*options, {"cpu", ""}, *bytes);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ((*child)->iteration(), 0);
  auto sp = parent->Sample({3, 4}, Solver::kEuler, 5);
  auto sc = (*child)->Sample({3, 4}, Solver::kEuler, 5);
  ASSERT_TRUE(sp.ok() && sc.ok());
  // Same flow weights; the source draw per seed is the same too.
  EXPECT_EQ(sp->values, sc->values);

  // Networks of another width do not fit: the error names the tensor.
  pb::TrainingConfig wide = SmallConfig(5);
  wide.mutable_generator()->mutable_network()->set_width(64);
  auto wide_options = ResolveTrainOptions(wide);
  ASSERT_TRUE(wide_options.ok());
  auto misfit = Trainer::CreateFromWeights(*wide_options, {"cpu", ""}, *bytes);
  EXPECT_EQ(misfit.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(misfit.status().message(), HasSubstr("generator tensor"));
  EXPECT_THAT(misfit.status().message(), HasSubstr("shape"));
  EXPECT_EQ(
      Trainer::CreateFromWeights(*options, {"cpu", ""}, "junk").status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(Trainer, LegacyCheckpointsAreRefusedAndConvertOffline) {
  // A format-1 file (LibTorch archive) written by an earlier build.
  std::ifstream in(PROXFLOW_SOURCE_DIR
                   "/tests/testing/data/format1-toy-2d.ckpt",
                   std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string legacy = buffer.str();
  ASSERT_GT(legacy.size(), 1000u);
  // Every loader of client bytes refuses it, naming the converter.
  for (const absl::Status& s :
       {Trainer::FromCheckpoint(legacy, {"cpu", ""}).status(),
        InspectCheckpoint(legacy).status(),
        FlowModel::Load(legacy, "cpu").status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("proxflow-lab convert-checkpoint"));
  }
  auto old = Trainer::FromLegacyCheckpoint(legacy, {"cpu", ""});
  ASSERT_TRUE(old.ok()) << old.status();
  auto converted = (*old)->SerializeCheckpoint();
  ASSERT_TRUE(converted.ok());
  auto now = Trainer::FromCheckpoint(*converted, {"cpu", ""});
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ((*now)->iteration(), (*old)->iteration());
  EXPECT_GT((*now)->iteration(), 0);
  auto a = (*old)->Sample({1, 2, 3}, Solver::kEuler, 5);
  auto b = (*now)->Sample({1, 2, 3}, Solver::kEuler, 5);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->values, b->values);  // same weights, bitwise
  // The next iteration continues identically (optimiser and RNG state).
  ASSERT_TRUE((*old)->Step().ok());
  ASSERT_TRUE((*now)->Step().ok());
  EXPECT_EQ((*old)->Sample({4}, Solver::kEuler, 5)->values,
            (*now)->Sample({4}, Solver::kEuler, 5)->values);
}

TEST(Trainer, UnknownDeviceIsRejected) {
  auto options = ResolveTrainOptions(SmallConfig(1));
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(Trainer::Create(*options, {"tpu:0", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Seeded 8-gaussians run: MMD (RBF, σ = 0.5) between 2,000 samples and 2,000
// targets falls by at least 5× within 1,200 iterations at raised learning rates
// (measured here: 8.5×). At 600 iterations the adversarial run is still mid-way
// and the factor moved between 3.6× and 7.8× with float rounding alone, too
// close to the bar.
// The final iterate of an adversarial run is a noisy measure (the game
// oscillates: the last-iteration MMD ratio of this run ranged 3.0–9.8 over
// OpenBLAS kernel families, thread counts and float-rounding-level code
// changes), so the test takes the median of five measurements over the last
// 200 iterations (ratios 5.3–10.3 over the four kernel families on one and two
// threads), on one and on two threads (data-parallel shards); untrained, the
// ratio is 1.
TEST(SlowTraining, EightGaussiansMmdFallsFourfold) {
  for (const int thread_count : {1, 2}) {
    ScopedThreads threads(thread_count);
    pb::TrainingConfig c;
    c.set_seed(1);
    c.set_iterations(1200);
    c.mutable_dataset()->set_toy(pb::TOY_SHAPE_EIGHT_GAUSSIANS);
    c.mutable_dataset()->set_pool_size(20000);
    c.mutable_source()->set_pool_size(20000);
    c.mutable_critic()->set_learning_rate(1e-3);
    c.mutable_generator()->set_learning_rate(2e-3);
    c.set_eval_interval(0);
    c.set_checkpoint_interval(0);
    auto t = MakeTrainer(c);
    std::vector<uint64_t> seeds(2000);
    for (size_t i = 0; i < seeds.size(); ++i) seeds[i] = 1000 + i;
    auto target = t->TargetSamples(2000);
    ASSERT_TRUE(target.ok());
    const auto mmd = [&] {
      auto s = t->Sample(seeds, Solver::kEuler, 5);
      EXPECT_TRUE(s.ok());
      return MmdRbf(
          at::from_blob(s->values.data(), {s->n, 2}, at::kFloat),
          at::from_blob(target->values.data(), {target->n, 2}, at::kFloat),
          0.5);
    };
    const double before = mmd();
    std::vector<double> after;
    for (int i = 1; i <= 1200; ++i) {
      ASSERT_TRUE(t->Step().ok());
      if (i > 1000 && i % 40 == 0) after.push_back(mmd());
    }
    std::sort(after.begin(), after.end());
    const double median = after[after.size() / 2];
    std::printf(
        "8 gaussians MMD^2 (sigma 0.5), %d thread(s): before %.5f, last five "
        "%.5f..%.5f, median %.5f, ratio %.1f\n",
        thread_count, before, after.front(), after.back(), median,
        before / median);
    EXPECT_GT(before / median, 4.0) << thread_count << " thread(s)";
  }
}

TEST(Gpu, TrainsAndResumesOnCuda) {
  auto options = ResolveTrainOptions(SmallConfig(2));
  ASSERT_TRUE(options.ok());
  auto t = Trainer::Create(*options, {"cuda", ""});
  if (t.status().code() == absl::StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << "no CUDA device: " << t.status().message();
  }
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->device(), "cuda:0");
  auto m = (*t)->Step();
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(std::isfinite(*m->Find("generator_loss")));
  auto bytes = (*t)->SerializeCheckpoint();
  ASSERT_TRUE(bytes.ok());
  auto resumed = Trainer::FromCheckpoint(*bytes, {"cuda", ""});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  auto m2 = (*resumed)->Step();
  ASSERT_TRUE(m2.ok()) << m2.status();
  EXPECT_EQ(m2->iteration, 2);
}

}  // namespace
}  // namespace proxflow::core
