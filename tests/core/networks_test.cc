// Networks: the analytic input gradient against autograd, shapes of every body.
#include "core/networks.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include "core/flow.h"
#include "core/random_streams.h"

namespace proxflow::core {
namespace {

TEST(FlowNet, AnalyticInputGradientMatchesAutograd) {
  for (Activation act :
       {Activation::kTanh, Activation::kRelu, Activation::kSoftplus}) {
    for (int depth : {1, 3}) {
      SCOPED_TRACE(testing::Message() << "activation " << static_cast<int>(act)
                                      << " depth " << depth);
      at::Generator gen = MakeCpuGenerator(17);
      FlowNet net(5, /*with_time=*/true, 1,
                  NetworkOptions{Architecture::kMlp, depth, 16, act});
      GlorotNormalInit(*net, gen);
      net->to(at::kDouble);
      ASSERT_TRUE(net->has_analytic_input_gradient());
      const at::Tensor x =
          at::randn({32, 5}, gen, at::kDouble).requires_grad_(true);
      const at::Tensor t = at::rand({32, 1}, gen, at::kDouble);
      const at::Tensor expected =
          torch::autograd::grad({net->forward(x, t).sum()}, {x})[0];
      const at::Tensor analytic = net->InputGradient(x.detach(), t);
      EXPECT_TRUE(at::allclose(analytic, expected, 1e-12, 1e-12))
          << (analytic - expected).abs().max().item<double>();
      EXPECT_FALSE(analytic.requires_grad());
    }
  }
}

TEST(FlowNet, FlowUsesTheAnalyticGradientWithoutGraphAndAutogradWithIt) {
  at::Generator gen = MakeCpuGenerator(18);
  FlowNet net(3, true, 1,
              NetworkOptions{Architecture::kMlp, 2, 8, Activation::kTanh});
  GlorotNormalInit(*net, gen);
  net->to(at::kDouble);
  Flow fast(net, GeneratorForm::kPotential, 0.4);
  Flow generic([&](const at::Tensor& x,
                   const at::Tensor& t) { return net->forward(x, t); },
               GeneratorForm::kPotential, 0.4);
  const at::Tensor x = at::randn({10, 3}, gen, at::kDouble);
  EXPECT_TRUE(at::allclose(fast.Velocity(x, 0.3, false),
                           generic.Velocity(x, 0.3, false), 1e-12, 1e-12));
  EXPECT_TRUE(fast.Velocity(x, 0.3, true)
                  .requires_grad());  // the graph path is autograd's
}

TEST(FlowNet, ShapesOfEveryBody) {
  const NetworkOptions conv{Architecture::kConv, 2, 16, Activation::kRelu};
  FlowNet potential(784, true, 1, conv), velocity(784, true, 784, conv);
  const at::Tensor x = at::rand({3, 784});
  const at::Tensor t = at::zeros({3, 1});
  EXPECT_EQ(potential->forward(x, t).sizes(), (at::IntArrayRef{3}));
  EXPECT_EQ(velocity->forward(x, t).sizes(), (at::IntArrayRef{3, 784}));
  EXPECT_FALSE(potential->has_analytic_input_gradient());
  Critic critic(784, conv);
  EXPECT_EQ(critic->forward(x).sizes(), (at::IntArrayRef{3}));
}

}  // namespace
}  // namespace proxflow::core
