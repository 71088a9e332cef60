// Networks of the flow and the critic (ALGORITHM.md §4–5).
//
// One module, FlowNet, serves the potential U(x,t) (scalar, time input), the
// critic φ(x) (scalar, no time) and the direct velocity v(x,t) (vector output):
// an optional 28×28 conv trunk followed by an MLP. Time enters as one raw
// scalar concatenated to x or to the conv features. Weights are Glorot-normal,
// biases zero. Modules are not thread-safe.
#ifndef PROXFLOW_CORE_NETWORKS_H_
#define PROXFLOW_CORE_NETWORKS_H_

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "core/kernels/rowwise_net.h"
#include "core/options.h"

namespace proxflow::core {

// Conv 1→8 7×7 pad 3 (no bias) → ReLU → MaxPool 2 → Conv 8→8 7×7 pad 3 (no
// bias) → ReLU → MaxPool 2 → flatten: (N,784) → (N,392).
class ConvTrunkImpl : public torch::nn::Module {
 public:
  ConvTrunkImpl();
  torch::Tensor forward(const torch::Tensor& x);
  static constexpr int64_t kFeatures = kernels::kTrunkFeatures;
  const torch::Tensor& conv1_weight() const { return conv1_->weight; }
  const torch::Tensor& conv2_weight() const { return conv2_->weight; }

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::Conv2d conv2_{nullptr};
};
TORCH_MODULE(ConvTrunk);

class FlowNetImpl : public torch::nn::Module {
 public:
  // `input_dim`: dimension of x; `with_time`: whether t is an input;
  // `output_dim`: 1 for potentials and critics, input_dim for a direct
  // velocity. `options.quadratic` adds ½(a₀ + a₁t)‖x‖² to a potential's
  // output (with_time and output_dim 1; ignored otherwise).
  FlowNetImpl(int64_t input_dim, bool with_time, int64_t output_dim,
              const NetworkOptions& options);

  // x: (N, input_dim); t: (N, 1) when with_time, otherwise undefined. Returns
  // (N) when output_dim == 1, else (N, output_dim).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t = {});

  bool with_time() const { return with_time_; }

  // Whether InputGradient() is available: an MLP body (no conv trunk) with a
  // scalar output.
  // Not with the quadratic term (autograd computes ∇U then).
  bool has_analytic_input_gradient() const {
    return !trunk_ && output_dim_ == 1 && !quadratic_.defined();
  }

  // ∂forward(x, t)/∂x for a scalar-output MLP, by an explicit backward pass
  // over stored activations: no autograd graph is built. (N, input_dim),
  // detached. Requires has_analytic_input_gradient().
  torch::Tensor InputGradient(const torch::Tensor& x, const torch::Tensor& t);

  // Whether DifferentiableInputGradient() is available now: an analytic
  // input gradient, at least one hidden layer, float32 or float64, not bf16.
  bool has_differentiable_input_gradient() const;

  // ∂forward(x, t)/∂[x, t], (N, input_dim + 1 when with_time), as one autograd
  // node with a hand-written backward (core/mlp_gradient.h): differentiable
  // once in x, t and the parameters, like autograd's ∇ with create_graph, at
  // a fraction of its per-operation cost. An undefined tensor when
  // has_differentiable_input_gradient() is false (callers fall back to
  // autograd).
  torch::Tensor DifferentiableInputGradient(const torch::Tensor& x,
                                            const torch::Tensor& t);

  // Mixed precision: forward and InputGradient run their matrix products and
  // convolutions in bfloat16 (autocast on the inputs' device) and return
  // float32. Weights stay float32. Off by default.
  void set_bf16(bool on) { bf16_ = on; }
  bool bf16() const { return bf16_; }

  // Copies of the weights as core/kernels/rowwise_net.h takes them (the
  // batch-invariant sampling path), or INVALID_ARGUMENT when they are not
  // float32 on the CPU.
  absl::StatusOr<kernels::NetWeights> RowwiseWeights() const;

 private:
  bool with_time_;
  bool bf16_ = false;
  int64_t output_dim_;
  Activation activation_;
  ConvTrunk trunk_{nullptr};
  torch::nn::ModuleList layers_;
  // (a₀, a₁) of the potential's ½(a₀ + a₁t)‖x‖² (NetworkOptions::quadratic),
  // the parameter "quadratic"; undefined without the term.
  torch::Tensor quadratic_;
};
TORCH_MODULE(FlowNet);

// The critic φ plus the learnable shift ν of the Legendre-form divergences
// (unused, and left without gradient, by the other forms).
class CriticImpl : public torch::nn::Module {
 public:
  CriticImpl(int64_t input_dim, const NetworkOptions& options);
  torch::Tensor forward(const torch::Tensor& x) { return body_->forward(x); }
  const torch::Tensor& nu() const { return nu_; }
  FlowNet& body() { return body_; }

 private:
  FlowNet body_{nullptr};
  torch::Tensor nu_;
};
TORCH_MODULE(Critic);

// Glorot-normal weights (std = sqrt(2/(fan_in+fan_out))) drawn from
// `generator`, and zero biases, for every Linear and Conv2d below `module`.
// Constructors above leave LibTorch's default init; owners call this with a
// seeded generator so that runs are reproducible.
void GlorotNormalInit(torch::nn::Module& module, at::Generator& generator);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_NETWORKS_H_
