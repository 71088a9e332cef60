#include "core/networks.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/autocast.h"
#include "core/base/status_macros.h"
#include "core/conv_same.h"
#include "core/fast_tanh.h"
#include "core/mlp_gradient.h"

namespace proxflow::core {

ConvTrunkImpl::ConvTrunkImpl() {
  conv1_ = register_module(
      "conv1", torch::nn::Conv2d(
                   torch::nn::Conv2dOptions(1, 8, 7).padding(3).bias(false)));
  conv2_ = register_module(
      "conv2", torch::nn::Conv2d(
                   torch::nn::Conv2dOptions(8, 8, 7).padding(3).bias(false)));
}

namespace {

// `t` with NHWC strides, also when it has one channel (then NCHW and NHWC
// strides are both "contiguous" and contiguous(ChannelsLast) keeps the NCHW
// ones, which sends the convolution down its slow NCHW path).
torch::Tensor Nhwc(const torch::Tensor& t) {
  return t.to(t.options(), /*non_blocking=*/false, /*copy=*/false,
              at::MemoryFormat::ChannelsLast);
}

}  // namespace

// Channels-last (NHWC) activations: the convolutions are ConvSame
// (core/conv_same.h: core/kernels on the CPU in float32, 8 channels per vector;
// at::conv2d, where oneDNN runs natively in that layout, elsewhere). The
// weights stay NCHW parameters (checkpoints, optimiser state). Features come
// out in NCHW (c, h, w) order.
torch::Tensor ConvTrunkImpl::forward(const torch::Tensor& x) {
  auto h = Nhwc(x.reshape({-1, 1, 28, 28}));
  h = ConvSame(h, Nhwc(conv1_->weight));
  h = at::max_pool2d(at::relu(h), {2, 2});
  h = ConvSame(h, Nhwc(conv2_->weight));
  h = at::max_pool2d(at::relu(h), {2, 2});
  return h.contiguous().flatten(1);
}

FlowNetImpl::FlowNetImpl(int64_t input_dim, bool with_time, int64_t output_dim,
                         const NetworkOptions& options)
    : with_time_(with_time),
      output_dim_(output_dim),
      activation_(options.activation) {
  int64_t features = input_dim;
  if (options.architecture == Architecture::kConv) {
    trunk_ = register_module("trunk", ConvTrunk());
    features = ConvTrunkImpl::kFeatures;
  }
  int64_t in = features + (with_time ? 1 : 0);
  for (int i = 0; i < options.depth; ++i) {
    layers_->push_back(torch::nn::Linear(in, options.width));
    in = options.width;
  }
  layers_->push_back(torch::nn::Linear(in, output_dim));
  register_module("layers", layers_);
  if (options.quadratic && with_time && output_dim == 1) {
    quadratic_ = register_parameter("quadratic", at::zeros({2}));
  }
}

torch::Tensor FlowNetImpl::forward(const torch::Tensor& x,
                                   const torch::Tensor& t) {
  const Bf16Autocast autocast(x.device().type(), bf16_);
  torch::Tensor h = trunk_ ? trunk_->forward(x) : x;
  if (with_time_) h = at::cat({h, t.to(h.dtype())}, 1);
  const size_t last = layers_->size() - 1;
  for (size_t i = 0; i < layers_->size(); ++i) {
    h = layers_[i]->as<torch::nn::Linear>()->forward(h);
    if (i == last) break;
    switch (activation_) {
      case Activation::kTanh:
        h = Tanh(h);
        break;
      case Activation::kRelu:
        h = at::relu(h);
        break;
      case Activation::kSoftplus:
        h = at::softplus(h);
        break;
    }
  }
  if (bf16_) h = h.to(at::kFloat);
  if (output_dim_ != 1) return h;
  torch::Tensor u = h.squeeze(1);
  if (quadratic_.defined()) {
    const torch::Tensor a =
        quadratic_[0] + quadratic_[1] * t.to(quadratic_.dtype()).reshape({-1});
    u = u + 0.5 * a * x.to(quadratic_.dtype()).square().sum(1);
  }
  return u;
}

torch::Tensor FlowNetImpl::InputGradient(const torch::Tensor& x,
                                         const torch::Tensor& t) {
  torch::NoGradGuard no_grad;
  const Bf16Autocast autocast(x.device().type(), bf16_);
  torch::Tensor h = with_time_ ? at::cat({x, t.to(x.dtype())}, 1) : x;
  const size_t hidden = layers_->size() - 1;
  // Forward, keeping what each activation's derivative needs.
  std::vector<torch::Tensor> derivative;
  derivative.reserve(hidden);
  for (size_t i = 0; i < hidden; ++i) {
    auto* linear = layers_[i]->as<torch::nn::Linear>();
    Activated next = ActivateWithSlope(
        at::addmm(linear->bias, h, linear->weight.t()), activation_);
    h = std::move(next.value);
    derivative.push_back(std::move(next.slope));
  }
  // Backward from the scalar output: g = w_out, then g ← (g ⊙ σ'(z_k)) W_k.
  torch::Tensor g =
      layers_[hidden]->as<torch::nn::Linear>()->weight;  // (1, width)
  for (size_t i = hidden; i-- > 0;) {
    g = at::mm(g * derivative[i], layers_[i]->as<torch::nn::Linear>()->weight);
  }
  if (hidden == 0) g = g.expand({x.size(0), g.size(1)});
  g = g.narrow(1, 0, x.size(1));
  return bf16_ ? g.to(at::kFloat) : g;
}

bool FlowNetImpl::has_differentiable_input_gradient() const {
  if (!has_analytic_input_gradient() || bf16_ || layers_->size() < 2)
    return false;
  const auto dtype =
      layers_->ptr(0)->as<torch::nn::Linear>()->weight.scalar_type();
  return dtype == at::kFloat || dtype == at::kDouble;
}

torch::Tensor FlowNetImpl::DifferentiableInputGradient(const torch::Tensor& x,
                                                       const torch::Tensor& t) {
  if (!has_differentiable_input_gradient()) return {};
  const size_t hidden = layers_->size() - 1;
  std::vector<at::Tensor> weights;
  std::vector<at::Tensor> biases;
  weights.reserve(hidden + 1);
  biases.reserve(hidden);
  for (size_t i = 0; i <= hidden; ++i) {
    auto* linear = layers_[i]->as<torch::nn::Linear>();
    weights.push_back(linear->weight);
    if (i < hidden) biases.push_back(linear->bias);
  }
  const at::Tensor input = with_time_ ? at::cat({x, t.to(x.dtype())}, 1) : x;
  return MlpInputGradient(input, weights, biases, activation_);
}

absl::StatusOr<kernels::NetWeights> FlowNetImpl::RowwiseWeights() const {
  const auto copy = [](const torch::Tensor& t,
                       const char* name) -> absl::StatusOr<std::vector<float>> {
    if (!t.device().is_cpu() || t.scalar_type() != at::kFloat) {
      return absl::InvalidArgumentError(
          absl::StrCat("the rowwise kernels need float32 CPU weights; ", name,
                       " is ", std::string(c10::toString(t.scalar_type())),
                       " on ", t.device().str()));
    }
    const torch::Tensor c = t.detach().contiguous();
    return std::vector<float>(c.data_ptr<float>(),
                              c.data_ptr<float>() + c.numel());
  };
  kernels::NetWeights w;
  const auto* first = layers_->ptr(0)->as<torch::nn::Linear>();
  w.with_time = with_time_;
  w.activation = activation_;
  w.input_dim = trunk_ ? 28 * 28 : first->weight.size(1) - (with_time_ ? 1 : 0);
  if (trunk_) {
    PROXFLOW_ASSIGN_OR_RETURN(w.conv1,
                              copy(trunk_->conv1_weight(), "trunk.conv1"));
    PROXFLOW_ASSIGN_OR_RETURN(w.conv2,
                              copy(trunk_->conv2_weight(), "trunk.conv2"));
  }
  for (size_t i = 0; i < layers_->size(); ++i) {
    const auto* linear = layers_->ptr(i)->as<torch::nn::Linear>();
    kernels::NetWeights::Linear layer;
    layer.out = linear->weight.size(0);
    layer.in = linear->weight.size(1);
    PROXFLOW_ASSIGN_OR_RETURN(layer.weight,
                              copy(linear->weight, "a layer's weight"));
    PROXFLOW_ASSIGN_OR_RETURN(layer.bias, copy(linear->bias, "a layer's bias"));
    w.layers.push_back(std::move(layer));
  }
  if (quadratic_.defined()) {
    PROXFLOW_ASSIGN_OR_RETURN(w.quadratic, copy(quadratic_, "quadratic"));
  }
  return w;
}

CriticImpl::CriticImpl(int64_t input_dim, const NetworkOptions& options) {
  body_ = register_module("body",
                          FlowNet(input_dim, /*with_time=*/false, 1, options));
  nu_ = register_parameter("nu", at::zeros({}));
}

void GlorotNormalInit(torch::nn::Module& module, at::Generator& generator) {
  torch::NoGradGuard no_grad;
  for (auto& m : module.modules(/*include_self=*/true)) {
    torch::Tensor weight;
    torch::Tensor bias;
    if (auto* linear = m->as<torch::nn::Linear>()) {
      weight = linear->weight;
      bias = linear->bias;
    } else if (auto* conv = m->as<torch::nn::Conv2d>()) {
      weight = conv->weight;
      bias = conv->bias;
    } else {
      continue;
    }
    const int64_t receptive = weight.dim() > 2 ? weight[0][0].numel() : 1;
    const double fan_in = static_cast<double>(weight.size(1) * receptive);
    const double fan_out = static_cast<double>(weight.size(0) * receptive);
    weight.normal_(0.0, std::sqrt(2.0 / (fan_in + fan_out)), generator);
    if (bias.defined()) bias.zero_();
  }
}

}  // namespace proxflow::core
