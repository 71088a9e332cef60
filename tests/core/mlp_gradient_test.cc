// The hand-written differentiable input gradient (core/mlp_gradient.h) against
// autograd's ∇ with create_graph and its double backward, in double precision.
#include "core/mlp_gradient.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <string>
#include <tuple>
#include <vector>

#include "core/networks.h"
#include "core/random_streams.h"

namespace proxflow::core {
namespace {

struct Case {
  std::string name;
  Activation activation;
  int depth;
  bool with_time;
};

class MlpGradientTest : public ::testing::TestWithParam<Case> {};

// A seeded double-precision MLP with nonzero biases (Glorot init zeroes them,
// which would hide a wrong bias gradient).
FlowNet MakeNet(const Case& c, int64_t d) {
  FlowNet net(d, c.with_time, 1,
              NetworkOptions{Architecture::kMlp, c.depth, 7, c.activation});
  at::Generator gen = MakeCpuGenerator(11);
  GlorotNormalInit(*net, gen);
  net->to(at::kDouble);
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) {
    if (p.key().find("bias") != std::string::npos)
      p.value().normal_(0.0, 0.3, gen);
  }
  return net;
}

// ∇[x, t]U by autograd, kept differentiable.
at::Tensor AutogradGradient(FlowNet& net, const at::Tensor& x,
                            const at::Tensor& t, bool with_time) {
  std::vector<at::Tensor> inputs = {x};
  if (with_time) inputs.push_back(t);
  auto g = torch::autograd::grad({net->forward(x, t).sum()}, inputs, {},
                                 /*retain_graph=*/true, /*create_graph=*/true);
  return with_time ? at::cat({g[0], g[1]}, 1) : g[0];
}

// Gradients of a loss of G that mixes linear and quadratic terms, w.r.t. x
// and every parameter.
std::vector<at::Tensor> LossGradients(FlowNet& net, const at::Tensor& g,
                                      const at::Tensor& x,
                                      const at::Tensor& weights) {
  const at::Tensor loss = (g * weights).sum() + 0.5 * g.pow(2).sum();
  std::vector<at::Tensor> inputs = {x};
  for (const auto& p : net->parameters()) inputs.push_back(p);
  return torch::autograd::grad({loss}, inputs, {}, false, false,
                               /*allow_unused=*/true);
}

TEST_P(MlpGradientTest, ValueAndFirstBackwardMatchAutograd) {
  const Case& c = GetParam();
  const int64_t n = 9, d = 5;
  FlowNet net = MakeNet(c, d);
  at::Generator gen = MakeCpuGenerator(3);
  const at::Tensor x0 = at::randn({n, d}, gen, at::kDouble);
  const at::Tensor t =
      c.with_time ? at::rand({n, 1}, gen, at::kDouble) : at::Tensor();
  const int64_t cols = d + (c.with_time ? 1 : 0);
  const at::Tensor weights = at::randn({n, cols}, gen, at::kDouble);

  const at::Tensor xa = x0.clone().requires_grad_(true);
  const at::Tensor ta =
      c.with_time ? t.clone().requires_grad_(true) : at::Tensor();
  const at::Tensor want = AutogradGradient(net, xa, ta, c.with_time);
  const std::vector<at::Tensor> want_grads =
      LossGradients(net, want, xa, weights);

  ASSERT_TRUE(net->has_differentiable_input_gradient());
  const at::Tensor xb = x0.clone().requires_grad_(true);
  const at::Tensor got = net->DifferentiableInputGradient(xb, t);
  ASSERT_TRUE(got.requires_grad());
  EXPECT_TRUE(at::allclose(got, want, 1e-12, 1e-12));
  const std::vector<at::Tensor> got_grads =
      LossGradients(net, got, xb, weights);

  ASSERT_EQ(got_grads.size(), want_grads.size());
  const auto names = net->named_parameters().keys();
  for (size_t i = 0; i < want_grads.size(); ++i) {
    const std::string what = i == 0 ? "x" : names[i - 1];
    // Unused (undefined) means zero: the output bias never enters G.
    const at::Tensor like = i == 0 ? xb : net->parameters()[i - 1];
    const at::Tensor w =
        want_grads[i].defined() ? want_grads[i] : at::zeros_like(like);
    const at::Tensor g =
        got_grads[i].defined() ? got_grads[i] : at::zeros_like(like);
    EXPECT_TRUE(at::allclose(g, w, 1e-10, 1e-11))
        << what << ": max difference " << (g - w).abs().max().item<double>();
  }
  // Not vacuous: the loss reaches x and the weights.
  EXPECT_GT(want_grads[1].abs().sum().item<double>(), 0);
  if (c.activation != Activation::kRelu) {
    EXPECT_GT(want_grads[0].abs().sum().item<double>(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Mlps, MlpGradientTest,
    ::testing::Values(Case{"tanh_5_time", Activation::kTanh, 5, true},
                      Case{"tanh_1", Activation::kTanh, 1, false},
                      Case{"relu_3", Activation::kRelu, 3, false},
                      Case{"relu_2_time", Activation::kRelu, 2, true},
                      Case{"softplus_3_time", Activation::kSoftplus, 3, true}),
    [](const auto& info) { return info.param.name; });

TEST(MlpGradient, UnavailableWithoutAHiddenLayerOrInBf16) {
  FlowNet linear(3, true, 1, NetworkOptions{Architecture::kMlp, 0, 4});
  EXPECT_FALSE(linear->has_differentiable_input_gradient());
  FlowNet mlp(3, true, 1, NetworkOptions{Architecture::kMlp, 2, 4});
  EXPECT_TRUE(mlp->has_differentiable_input_gradient());
  mlp->set_bf16(true);
  EXPECT_FALSE(mlp->has_differentiable_input_gradient());
}

}  // namespace
}  // namespace proxflow::core
