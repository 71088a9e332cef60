// The rowwise field (the CPU sampling path) computes the same velocity as the
// LibTorch path (autograd ∇ₓU, or the network's forward) to float rounding,
// for every preset's network in both generator forms and for each activation;
// with and without the potential's quadratic term; its weight snapshot follows
// updates of the network; bf16 falls back.
#include "core/rowwise_field.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>

#include <string>

#include "core/options_resolver.h"
#include "core/trainer_impl.h"

namespace proxflow::core {
namespace {

namespace pb = ::proxflow::v1;

struct Case {
  const char* name;
  const char* preset;
  pb::GeneratorForm form;
  pb::Activation activation;  // ACTIVATION_UNSPECIFIED: the preset's
  bool quadratic = false;     // generator.quadratic, with a₀, a₁ ≠ 0
};

class RowwiseFieldTest : public ::testing::TestWithParam<Case> {};

TEST_P(RowwiseFieldTest, MatchesTheLibTorchVelocity) {
  const Case& c = GetParam();
  pb::TrainingConfig config;
  config.set_preset(c.preset);
  config.mutable_dataset()->set_mnist_dir("/unused");
  config.mutable_generator()->set_form(c.form);
  if (c.activation != pb::ACTIVATION_UNSPECIFIED) {
    config.mutable_generator()->mutable_network()->set_activation(c.activation);
  }
  config.mutable_generator()->set_quadratic(c.quadratic);
  auto options = ResolveTrainOptions(config);
  ASSERT_TRUE(options.ok()) << options.status();
  at::manual_seed(5);
  Networks nets = MakeNetworks(*options);
  torch::Tensor* quadratic =
      nets.generator->named_parameters().find("quadratic");
  ASSERT_EQ(quadratic != nullptr, c.quadratic);
  if (quadratic != nullptr) {
    torch::NoGradGuard no_grad;
    quadratic->copy_(at::tensor({0.3f, -0.25f}));
  }
  for (auto& p : nets.generator->parameters()) p.set_requires_grad(false);
  Flow flow(nets.generator, options->generator.form, options->flow.lambda);
  auto field = RowwiseVelocityField(flow);
  ASSERT_TRUE(field.has_value());
  const int64_t d = options->dataset.dimension;
  at::Tensor x = at::randn({19, d});
  if (d == 784) x = x.abs() * 0.3;
  for (const double t : {0.0, 0.6}) {
    const at::Tensor want = flow.Field()(x, t);
    const at::Tensor got = (*field)(x, t);
    ASSERT_EQ(got.sizes(), want.sizes());
    const double scale = want.abs().max().item<double>();
    ASSERT_GT(scale, 0);
    const double diff = (got - want).abs().max().item<double>();
    EXPECT_LE(diff, 2e-5 * scale) << c.name << " at t " << t;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Presets, RowwiseFieldTest,
    ::testing::Values(
        Case{"toy_potential", "toy-2d", pb::GENERATOR_FORM_POTENTIAL,
             pb::ACTIVATION_UNSPECIFIED},
        Case{"manifold_velocity", "manifold-7d",
             pb::GENERATOR_FORM_DIRECT_VELOCITY, pb::ACTIVATION_UNSPECIFIED},
        Case{"manifold_relu", "manifold-12d", pb::GENERATOR_FORM_POTENTIAL,
             pb::ACTIVATION_RELU},
        Case{"manifold_softplus", "manifold-12d", pb::GENERATOR_FORM_POTENTIAL,
             pb::ACTIVATION_SOFTPLUS},
        Case{"mnist_potential", "mnist", pb::GENERATOR_FORM_POTENTIAL,
             pb::ACTIVATION_UNSPECIFIED},
        Case{"mnist_velocity", "mnist", pb::GENERATOR_FORM_DIRECT_VELOCITY,
             pb::ACTIVATION_UNSPECIFIED},
        Case{"mnist_tanh", "mnist", pb::GENERATOR_FORM_POTENTIAL,
             pb::ACTIVATION_TANH},
        Case{"toy_quadratic", "toy-2d", pb::GENERATOR_FORM_POTENTIAL,
             pb::ACTIVATION_UNSPECIFIED, true},
        Case{"mnist_quadratic", "mnist", pb::GENERATOR_FORM_POTENTIAL,
             pb::ACTIVATION_UNSPECIFIED, true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RowwiseField, FollowsUpdatesOfTheNetworkAndFallsBackForBf16) {
  pb::TrainingConfig config;
  config.set_preset("toy-2d");
  auto options = ResolveTrainOptions(config);
  ASSERT_TRUE(options.ok());
  at::manual_seed(6);
  Networks nets = MakeNetworks(*options);
  Flow flow(nets.generator, options->generator.form, options->flow.lambda);
  const at::Tensor x = at::randn({5, 2});
  const at::Tensor before = (*RowwiseVelocityField(flow))(x, 0.2);
  const at::Tensor again = (*RowwiseVelocityField(flow))(x, 0.2);
  EXPECT_TRUE(at::equal(before, again));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : nets.generator->parameters())
      p.mul_(1.5);  // an optimiser step
  }
  const at::Tensor after = (*RowwiseVelocityField(flow))(x, 0.2);
  EXPECT_FALSE(at::equal(before, after));
  EXPECT_LE((after - flow.Field()(x, 0.2)).abs().max().item<double>(),
            2e-5 * after.abs().max().item<double>());
  nets.generator->set_bf16(true);
  EXPECT_FALSE(RowwiseVelocityField(flow).has_value());
  Flow from_function(
      [](const at::Tensor& x, const at::Tensor&) { return x.sum(1); },
      GeneratorForm::kPotential, 1.0);
  EXPECT_FALSE(RowwiseVelocityField(from_function).has_value());
}

}  // namespace
}  // namespace proxflow::core
