// The resolver: presets, merging, and rejection of bad values naming the field
// and value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/options_resolver.h"
#include "core/presets.h"

namespace proxflow::core {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
namespace pb = ::proxflow::v1;

TEST(Presets, ToyPresetHasPublishedHyperparameters) {
  auto o = ResolveTrainOptions(pb::TrainingConfig());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->preset, "toy-2d");
  EXPECT_EQ(o->model, "pinwheel");
  EXPECT_EQ(o->generator.network.depth, 5);
  EXPECT_EQ(o->generator.network.width, 48);
  EXPECT_EQ(o->generator.network.activation, Activation::kTanh);
  EXPECT_EQ(o->critic.network.depth, 3);
  EXPECT_EQ(o->critic.network.activation, Activation::kRelu);
  EXPECT_EQ(o->flow.steps, 5);
  EXPECT_DOUBLE_EQ(o->flow.lambda, 0.5);
  EXPECT_DOUBLE_EQ(o->critic.penalty_weight, 0.1);
  EXPECT_DOUBLE_EQ(o->critic.learning_rate, 2e-5);
  EXPECT_DOUBLE_EQ(o->generator.learning_rate, 1e-4);
  EXPECT_EQ(o->critic.steps_per_iteration, 5);
  EXPECT_EQ(o->batch_size, 200);
  EXPECT_EQ(o->iterations, 25000);
  EXPECT_DOUBLE_EQ(o->beta1, 0.5);
  EXPECT_DOUBLE_EQ(o->beta2, 0.9);
  EXPECT_EQ(o->dataset.pool_size, 100000);
  EXPECT_EQ(o->critic.divergence, DivergenceKind::kKlDv);
  EXPECT_EQ(o->critic.lipschitz_mode, LipschitzMode::kOneSidedPenalty);
}

TEST(Presets, ManifoldAndMnistPresets) {
  pb::TrainingConfig c;
  c.set_preset("manifold-12d");
  auto m = ResolveTrainOptions(c);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->dataset.dimension, 12);
  EXPECT_DOUBLE_EQ(m->flow.lambda, 0.1);
  EXPECT_DOUBLE_EQ(m->critic.penalty_weight, 0.01);
  EXPECT_EQ(m->model, "pinwheel-12d");

  c.set_preset("mnist");
  c.mutable_dataset()->set_mnist_dir("/data/mnist");
  auto n = ResolveTrainOptions(c);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->generator.network.architecture, Architecture::kConv);
  EXPECT_EQ(n->generator.network.width, 512);
  EXPECT_EQ(n->critic.network.width, 256);
  EXPECT_EQ(n->flow.steps, 5);
  EXPECT_DOUBLE_EQ(n->flow.lambda, 0.05);
  EXPECT_EQ(n->source.kind, SourceKind::kUniform);
  EXPECT_DOUBLE_EQ(n->source.high, 0.5);
  EXPECT_EQ(n->iterations, 5000);
  EXPECT_EQ(n->dataset.subset_size, 6000);
  // The study's finding: the Lipschitz bound held by default, the paper's
  // literal value one preset away, all else equal.
  EXPECT_DOUBLE_EQ(n->critic.penalty_weight, 10.0);
  EXPECT_DOUBLE_EQ(n->generator.ema_decay, 0.999);  // samples the average
  c.set_preset("mnist-paper");
  auto paper = ResolveTrainOptions(c);
  ASSERT_TRUE(paper.ok()) << paper.status();
  EXPECT_DOUBLE_EQ(paper->critic.penalty_weight, 0.1);
  EXPECT_DOUBLE_EQ(paper->generator.ema_decay, 0.0);
  EXPECT_EQ(paper->preset, "mnist-paper");
  EXPECT_EQ(paper->model, "mnist");
  pb::TrainingConfig a = n->resolved_config, b = paper->resolved_config;
  a.clear_preset();
  b.clear_preset();
  a.mutable_critic()->clear_penalty_weight();
  b.mutable_critic()->clear_penalty_weight();
  a.mutable_generator()->clear_ema_decay();
  b.mutable_generator()->clear_ema_decay();
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
}

// A stored (fully expanded) config written before generator.ema_decay existed
// keeps its run's behaviour: no weight average, though the mnist preset now
// has one; its resolved_config stays as stored.
TEST(Resolver, StoredConfigsKeepTheBehaviourOfWhenTheyWereStored) {
  pb::TrainingConfig c;
  c.set_preset("mnist");
  c.mutable_dataset()->set_mnist_dir("/data/mnist");
  auto expanded = ExpandPreset(c);
  ASSERT_TRUE(expanded.ok()) << expanded.status();
  pb::TrainingConfig old = *expanded;
  old.mutable_generator()->clear_ema_decay();
  auto fresh = ResolveTrainOptions(old);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_DOUBLE_EQ(fresh->generator.ema_decay, 0.999);  // the preset's now
  auto stored = ResolveStoredTrainOptions(old);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_DOUBLE_EQ(stored->generator.ema_decay, 0.0);
  EXPECT_FALSE(stored->resolved_config.generator().has_ema_decay());
  EXPECT_DOUBLE_EQ(stored->critic.penalty_weight, 10.0);
  old.mutable_generator()->set_ema_decay(0.5);
  stored = ResolveStoredTrainOptions(old);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_DOUBLE_EQ(stored->generator.ema_decay, 0.5);
  old.mutable_generator()->set_ema_decay(2.0);  // still validated
  EXPECT_THAT(std::string(ResolveStoredTrainOptions(old).status().message()),
              HasSubstr("training.generator.ema_decay"));
}

TEST(Resolver, BestMetricMustBeOneTheJobsEvaluationsLog) {
  pb::TrainingConfig c;
  c.mutable_registry()->set_best_metric("no_such_metric");
  auto toy = ResolveTrainOptions(c);
  ASSERT_FALSE(toy.ok());
  EXPECT_EQ(toy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(toy.status().message()),
      AllOf(HasSubstr("training.registry.best_metric"),
            HasSubstr("\"no_such_metric\""),
            HasSubstr("(divergence, divergence_half_dt, kinetic_energy, "
                      "path_kinetic_energy, hjb, straightness, "
                      "drift_half_dt, sinkhorn, terminal)")));
  // Fréchet is an MNIST metric: not logged for toy data.
  c.mutable_registry()->set_best_metric("frechet");
  EXPECT_THAT(std::string(ResolveTrainOptions(c).status().message()),
              HasSubstr("training.registry.best_metric"));
  c.set_preset("mnist");
  c.mutable_dataset()->set_mnist_dir("/data/mnist");
  for (const char* name :
       {"frechet", "class_coverage", "divergence", "live_frechet"}) {
    c.mutable_registry()->set_best_metric(name);
    auto mnist = ResolveTrainOptions(c);
    ASSERT_TRUE(mnist.ok()) << name << ": " << mnist.status();
    EXPECT_EQ(mnist->registry.best_metric, name);
  }
  c.mutable_registry()->set_best_metric("sinkhorn");
  EXPECT_THAT(std::string(ResolveTrainOptions(c).status().message()),
              AllOf(HasSubstr("training.registry.best_metric"),
                    HasSubstr("class_coverage, largest_class_share, "
                              "class_entropy, frechet, live_class_coverage, "
                              "live_largest_class_share, live_class_entropy, "
                              "live_frechet)")));
  // Without the moving average there are no live weights to measure apart.
  c.set_preset("mnist-paper");
  c.mutable_registry()->set_best_metric("live_frechet");
  EXPECT_THAT(std::string(ResolveTrainOptions(c).status().message()),
              HasSubstr("class_entropy, frechet), got \"live_frechet\""));
}

TEST(Resolver, MnistRanksByFrechetAndUploadedDataByDivergence) {
  pb::TrainingConfig c;
  c.set_preset("mnist");
  c.mutable_dataset()->set_mnist_dir("/data/mnist");
  auto mnist = ResolveTrainOptions(c);
  ASSERT_TRUE(mnist.ok()) << mnist.status();
  EXPECT_EQ(mnist->registry.best_metric, "frechet");
  EXPECT_TRUE(mnist->registry.minimize);
  // The toy preset's default (Sinkhorn) has no reference on uploaded data:
  // the divergence estimate ranks, and the resolved config says so.
  pb::TrainingConfig u;
  u.mutable_dataset()->set_kind(pb::DATASET_KIND_UPLOADED);
  u.mutable_dataset()->set_uploaded_name("points");
  u.mutable_dataset()->set_dimension(2);
  auto uploaded = ResolveTrainOptions(u);
  ASSERT_TRUE(uploaded.ok()) << uploaded.status();
  EXPECT_EQ(uploaded->registry.best_metric, "divergence");
  EXPECT_EQ(uploaded->resolved_config.registry().best_metric(), "divergence");
  u.mutable_registry()->set_best_metric("sinkhorn");
  EXPECT_THAT(std::string(ResolveTrainOptions(u).status().message()),
              HasSubstr("training.registry.best_metric"));
}

TEST(Resolver, UserFieldsOverridePresetAndResolvedConfigIsComplete) {
  pb::TrainingConfig c;
  c.set_preset("manifold-7d");
  c.mutable_flow()->set_lambda(0.3);
  c.mutable_critic()->set_divergence(pb::DIVERGENCE_ALPHA);
  c.mutable_critic()->set_alpha(3);
  auto o = ResolveTrainOptions(c);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_DOUBLE_EQ(o->flow.lambda, 0.3);
  EXPECT_DOUBLE_EQ(o->critic.penalty_weight, 0.01);  // still the preset's
  EXPECT_EQ(o->critic.divergence, DivergenceKind::kAlpha);
  EXPECT_TRUE(o->resolved_config.flow().has_dt());
  EXPECT_EQ(o->resolved_config.preset(), "manifold-7d");
  // Resolving the resolved config again is a fixed point.
  auto again = ResolveTrainOptions(o->resolved_config);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->resolved_config.SerializeAsString(),
            o->resolved_config.SerializeAsString());
}

struct BadCase {
  const char* name;
  void (*mutate)(pb::TrainingConfig&);
  const char* field;
  const char* value;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class RejectsBadValue : public ::testing::TestWithParam<BadCase> {};

TEST_P(RejectsBadValue, NamingFieldAndValue) {
  pb::TrainingConfig c;
  GetParam().mutate(c);
  auto o = ResolveTrainOptions(c);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(o.status().message()),
              AllOf(HasSubstr(GetParam().field), HasSubstr(GetParam().value)));
}

INSTANTIATE_TEST_SUITE_P(
    Resolver, RejectsBadValue,
    ::testing::Values(
        BadCase{"batch", [](pb::TrainingConfig& c) { c.set_batch_size(-3); },
                "training.batch_size", "-3"},
        BadCase{"preset", [](pb::TrainingConfig& c) { c.set_preset("toy-3d"); },
                "training.preset", "toy-3d"},
        BadCase{"iterations",
                [](pb::TrainingConfig& c) { c.set_iterations(0); },
                "training.iterations", "0"},
        BadCase{"lambda",
                [](pb::TrainingConfig& c) { c.mutable_flow()->set_lambda(-1); },
                "training.flow.lambda", "-1"},
        BadCase{
            "lambda_nan",
            [](pb::TrainingConfig& c) { c.mutable_flow()->set_lambda(NAN); },
            "training.flow.lambda", "nan"},
        BadCase{"dt",
                [](pb::TrainingConfig& c) { c.mutable_flow()->set_dt(0.3); },
                "training.flow.dt", "0.3"},
        BadCase{"depth",
                [](pb::TrainingConfig& c) {
                  c.mutable_generator()->mutable_network()->set_depth(0);
                },
                "training.generator.network.depth", "0"},
        BadCase{"width",
                [](pb::TrainingConfig& c) {
                  c.mutable_critic()->mutable_network()->set_width(100000);
                },
                "training.critic.network.width", "100000"},
        BadCase{"conv_on_2d",
                [](pb::TrainingConfig& c) {
                  c.mutable_critic()->mutable_network()->set_architecture(
                      pb::ARCHITECTURE_CONV);
                },
                "training.critic.network.architecture", "dimension 2"},
        BadCase{"alpha",
                [](pb::TrainingConfig& c) {
                  c.mutable_critic()->set_divergence(pb::DIVERGENCE_ALPHA);
                  c.mutable_critic()->set_alpha(1);
                },
                "training.critic.alpha", "1"},
        BadCase{"lipschitz",
                [](pb::TrainingConfig& c) {
                  c.mutable_critic()->set_lipschitz_constant(0);
                },
                "training.critic.lipschitz_constant", "0"},
        BadCase{"penalty",
                [](pb::TrainingConfig& c) {
                  c.mutable_critic()->set_penalty_weight(-0.5);
                },
                "training.critic.penalty_weight", "-0.5"},
        BadCase{"critic_steps",
                [](pb::TrainingConfig& c) {
                  c.mutable_critic()->set_steps_per_iteration(0);
                },
                "training.critic.steps_per_iteration", "0"},
        BadCase{"lr",
                [](pb::TrainingConfig& c) {
                  c.mutable_generator()->set_learning_rate(2);
                },
                "training.generator.learning_rate", "2"},
        BadCase{
            "beta",
            [](pb::TrainingConfig& c) { c.mutable_optimizer()->set_beta2(1); },
            "training.optimizer.beta2", "1"},
        BadCase{"unspecified_enum",
                [](pb::TrainingConfig& c) {
                  c.mutable_flow()->set_loss_case(pb::LOSS_CASE_UNSPECIFIED);
                },
                "training.flow.loss_case", "LOSS_CASE_UNSPECIFIED"},
        BadCase{"unknown_enum",
                [](pb::TrainingConfig& c) {
                  c.mutable_critic()->set_divergence(
                      static_cast<pb::Divergence>(42));
                },
                "training.critic.divergence", "42"},
        BadCase{"pool",
                [](pb::TrainingConfig& c) {
                  c.mutable_dataset()->set_pool_size(10);
                },
                "training.dataset.pool_size", "10"},
        BadCase{"uniform",
                [](pb::TrainingConfig& c) {
                  c.mutable_source()->set_kind(pb::SOURCE_KIND_UNIFORM);
                  c.mutable_source()->set_low(1);
                  c.mutable_source()->set_high(1);
                },
                "training.source.high", "1"},
        BadCase{"mnist_dim",
                [](pb::TrainingConfig& c) {
                  c.set_preset("mnist");
                  c.mutable_dataset()->set_dimension(100);
                },
                "training.dataset.dimension", "100"},
        BadCase{"labels",
                [](pb::TrainingConfig& c) {
                  c.mutable_dataset()->add_mnist_labels(10);
                },
                "training.dataset.mnist_labels[0]", "10"},
        BadCase{"model",
                [](pb::TrainingConfig& c) { c.set_model("bad name/1"); },
                "training.model", "bad name/1"},
        BadCase{"eval_batch",
                [](pb::TrainingConfig& c) { c.set_eval_batch_size(200000); },
                "training.eval_batch_size", "200000"},
        BadCase{"pg_direct",
                [](pb::TrainingConfig& c) {
                  c.mutable_generator()->set_form(
                      pb::GENERATOR_FORM_DIRECT_VELOCITY);
                  c.mutable_flow()->set_loss_case(pb::LOSS_CASE_PG);
                },
                "training.flow.loss_case", "LOSS_CASE_PG"},
        BadCase{"quadratic_direct",
                [](pb::TrainingConfig& c) {
                  c.mutable_generator()->set_form(
                      pb::GENERATOR_FORM_DIRECT_VELOCITY);
                  c.mutable_generator()->set_quadratic(true);
                },
                "training.generator.quadratic", "true"},
        BadCase{"ema_decay_one",
                [](pb::TrainingConfig& c) {
                  c.mutable_generator()->set_ema_decay(1.0);
                },
                "training.generator.ema_decay", "1"},
        BadCase{"ema_decay_negative",
                [](pb::TrainingConfig& c) {
                  c.mutable_generator()->set_ema_decay(-0.5);
                },
                "training.generator.ema_decay", "-0.5"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return info.param.name;
    });

}  // namespace
}  // namespace proxflow::core
