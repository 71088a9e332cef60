// ConvSame on the kernels against at::conv2d: the value, both first
// derivatives and the double backward (the generator's ∇ₓU with a graph and
// the critic's gradient penalty differentiate through it twice), for every
// shape the conv trunk and its derivatives produce; and the conv potential's
// U, ∇ₓU and double backward against a plain NCHW implementation (float) and
// finite differences (double).
#include "core/conv_same.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/networks.h"
#include "core/options_resolver.h"
#include "core/trainer_impl.h"

namespace proxflow::core {
namespace {

namespace pb = ::proxflow::v1;

double RelativeDifference(const at::Tensor& a, const at::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  return (a - b).abs().max().item<double>() / (scale > 0 ? scale : 1);
}

// ⟨conv(x, w), r⟩ and its gradients, then the gradients of ⟨∇ₓ, s⟩ + ⟨∇w, q⟩
// (second order), by `conv`.
std::vector<at::Tensor> Derivatives(
    const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& conv,
    const at::Tensor& x0, const at::Tensor& w0, const at::Tensor& r,
    const at::Tensor& s, const at::Tensor& q) {
  const at::Tensor x = x0.clone().requires_grad_(true);
  const at::Tensor w = w0.clone().requires_grad_(true);
  const at::Tensor y = conv(x, w);
  const auto first =
      torch::autograd::grad({(y * r).sum()}, {x, w}, {}, true, true);
  const auto second = torch::autograd::grad(
      {(first[0] * s).sum() + (first[1] * q).sum()}, {x, w}, {}, false, false);
  return {y.detach(), first[0].detach(), first[1].detach(), second[0],
          second[1]};
}

struct Shape {
  int64_t n, cin, cout, h, k;
};

TEST(ConvSame, ValueAndTwoOrdersOfDerivativesMatchConv2d) {
  for (const Shape& c : std::vector<Shape>{{3, 1, 8, 28, 7},
                                           {2, 8, 8, 14, 7},
                                           {2, 8, 1, 28, 7},
                                           {2, 16, 8, 6, 3}}) {
    at::manual_seed(c.cin * 10 + c.cout);
    const at::Tensor x = at::randn({c.n, c.cin, c.h, c.h});
    const at::Tensor w = at::randn({c.cout, c.cin, c.k, c.k}) * 0.2;
    const at::Tensor r = at::randn({c.n, c.cout, c.h, c.h});
    const at::Tensor s = at::randn_like(x);
    const at::Tensor q = at::randn_like(w);
    const auto ours = Derivatives(ConvSame, x, w, r, s, q);
    const auto reference = Derivatives(
        [&](const at::Tensor& a, const at::Tensor& b) {
          return at::conv2d(a, b, {}, 1, c.k / 2);
        },
        x, w, r, s, q);
    const char* names[] = {"value", "d/dx", "d/dw", "d2/dx", "d2/dw"};
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_LE(RelativeDifference(ours[i], reference[i]), 1e-5)
          << names[i] << " for " << c.cin << "->" << c.cout << " at " << c.h;
    }
    // The kernel path is the one taken: channels-last strides out.
    EXPECT_TRUE(ConvSame(x, w).is_contiguous(at::MemoryFormat::ChannelsLast));
  }
}

TEST(ConvSame, WeightGradientIsTheSameBytesAtAnyThreadCount) {
  at::manual_seed(9);
  const at::Tensor x = at::randn({37, 8, 14, 14});
  const at::Tensor g = at::randn({37, 8, 14, 14});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor one = ConvSameWeightGrad(x, g, 7);
  at::set_num_threads(2);
  const at::Tensor two = ConvSameWeightGrad(x, g, 7);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one, two));
  EXPECT_LE(RelativeDifference(
                one, at::conv2d(x.transpose(0, 1), g.transpose(0, 1), {}, 1, 3)
                         .transpose(0, 1)),
            1e-5);
}

// The conv potential U(x, t) written out with plain NCHW at::conv2d.
at::Tensor PlainPotential(FlowNet& net, const at::Tensor& x,
                          const at::Tensor& t) {
  std::vector<at::Tensor> conv, linear_w, linear_b;
  for (const auto& item : net->named_parameters()) {
    const std::string& name = item.key();
    if (name.find("conv") != std::string::npos)
      conv.push_back(item.value());
    else if (name.find("weight") != std::string::npos)
      linear_w.push_back(item.value());
    else
      linear_b.push_back(item.value());
  }
  at::Tensor h = x.reshape({-1, 1, 28, 28}).contiguous();
  for (const at::Tensor& w : conv) {
    h = at::max_pool2d(at::relu(at::conv2d(h, w.contiguous(), {}, 1, 3)),
                       {2, 2});
  }
  h = at::cat({h.flatten(1), t}, 1);
  for (size_t i = 0; i < linear_w.size(); ++i) {
    h = at::linear(h, linear_w[i], linear_b[i]);
    if (i + 1 < linear_w.size()) h = at::relu(h);
  }
  return h.squeeze(1);
}

TEST(ConvPotential, GradientsMatchPlainNchwAndFiniteDifferences) {
  pb::TrainingConfig config;
  config.set_preset("mnist");
  config.mutable_dataset()->set_mnist_dir("/unused");
  config.mutable_generator()->mutable_network()->set_width(32);
  auto options = ResolveTrainOptions(config);
  ASSERT_TRUE(options.ok()) << options.status();
  at::manual_seed(4);
  Networks nets = MakeNetworks(*options);
  FlowNet& net = nets.generator;
  const at::Tensor x0 = at::rand({3, 784}) * 0.5;
  const at::Tensor t = at::full({3, 1}, 0.3);
  // Float: U, ∇ₓU and ∂‖∇ₓU‖²/∂θ of the trunk as built (kernels) and plain.
  const auto derivatives = [&](bool plain) {
    const at::Tensor x = x0.clone().requires_grad_(true);
    const at::Tensor u = plain ? PlainPotential(net, x, t) : net->forward(x, t);
    const at::Tensor gx =
        torch::autograd::grad({u.sum()}, {x}, {}, true, true)[0];
    const auto params = net->parameters();
    // The output bias does not enter ∇ₓU (allow_unused, then skipped).
    const auto gp = torch::autograd::grad({gx.pow(2).sum()}, params, {}, false,
                                          false, /*allow_unused=*/true);
    std::vector<at::Tensor> out = {u.detach(), gx.detach()};
    for (const auto& g : gp) {
      if (g.defined()) out.push_back(g);
    }
    return out;
  };
  const auto ours = derivatives(false);
  const auto plain = derivatives(true);
  ASSERT_EQ(ours.size(), plain.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_LE(RelativeDifference(ours[i], plain[i]), 1e-4) << "term " << i;
  }
  // Double: ∇ₓU against central differences of U, and the double backward
  // against differences of ∇ₓU (directional, in the first conv weight).
  net->to(at::kDouble);
  const at::Tensor xd = x0.to(at::kDouble).requires_grad_(true);
  const at::Tensor td = t.to(at::kDouble);
  const at::Tensor u = net->forward(xd, td).sum();
  const at::Tensor gx = torch::autograd::grad({u}, {xd}, {}, true, true)[0];
  const double eps = 1e-6;
  for (const int64_t j : {300, 406, 500}) {
    at::Tensor plus = xd.detach().clone(), minus = xd.detach().clone();
    plus[1][j] += eps;
    minus[1][j] -= eps;
    const double fd = (net->forward(plus, td).sum().item<double>() -
                       net->forward(minus, td).sum().item<double>()) /
                      (2 * eps);
    EXPECT_NEAR(gx[1][j].item<double>(), fd, 1e-6 * (1 + std::abs(fd))) << j;
  }
  at::Tensor w1 = net->parameters()[0];
  const at::Tensor direction = at::randn_like(w1);
  const at::Tensor dw =
      torch::autograd::grad({gx.pow(2).sum()}, {w1}, {}, false, false)[0];
  const auto squared_gradient = [&](double step) {
    torch::NoGradGuard no_grad;
    w1.add_(direction, step);
    torch::AutoGradMode enable(true);
    const at::Tensor x = xd.detach().clone().requires_grad_(true);
    const at::Tensor g =
        torch::autograd::grad({net->forward(x, td).sum()}, {x})[0];
    const double value = g.pow(2).sum().item<double>();
    torch::NoGradGuard again;
    w1.add_(direction, -step);
    return value;
  };
  const double fd =
      (squared_gradient(eps) - squared_gradient(-eps)) / (2 * eps);
  const double analytic = (dw * direction).sum().item<double>();
  EXPECT_NEAR(analytic, fd, 1e-5 * (1 + std::abs(fd)));
}

}  // namespace
}  // namespace proxflow::core
