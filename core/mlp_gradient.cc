#include "core/mlp_gradient.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <vector>

#include "core/fast_tanh.h"

namespace proxflow::core {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The factor that turns s̄ (the cotangent of σ'(z)) into z̄: σ''(z) for tanh
// (−2σσ') and softplus (σ'(1−σ')); undefined for ReLU, whose σ'' is 0.
at::Tensor SecondDerivative(const Activated& h, Activation activation) {
  switch (activation) {
    case Activation::kTanh:
      return -2.0 * h.value * h.slope;
    case Activation::kSoftplus:
      return h.slope * (1.0 - h.slope);
    case Activation::kRelu:
      break;
  }
  return {};
}

// Saved per hidden layer l = 1..L (index l−1): the layer's input a_{l−1},
// σ'(z_l), σ''(z_l) (undefined for ReLU), then every δ_l = ∂U/∂z_l, every
// u_l = ∂U/∂a_l (δ_l = u_l ⊙ σ'(z_l); u_L is the output row w), and the
// weights.
class MlpInputGradientFunction
    : public torch::autograd::Function<MlpInputGradientFunction> {
 public:
  static at::Tensor forward(AutogradContext* context, const at::Tensor& a,
                            at::TensorList weights, at::TensorList biases,
                            int64_t activation_index) {
    const auto activation = static_cast<Activation>(activation_index);
    const size_t hidden = biases.size();
    std::vector<at::Tensor> saved(5 * hidden);  // layout: see the class comment
    saved.reserve(5 * hidden + weights.size());
    at::Tensor h = a;
    for (size_t l = 0; l < hidden; ++l) {
      const at::Tensor z = at::addmm(biases[l], h, weights[l].t());
      Activated next = ActivateWithSlope(z, activation);
      saved[3 * l] = h;
      saved[3 * l + 2] = SecondDerivative(next, activation);
      saved[3 * l + 1] = std::move(next.slope);
      h = std::move(next.value);
    }
    // δ_L = w ⊙ σ'(z_L); e_l = δ_l W_l; δ_{l−1} = e_l ⊙ σ'(z_{l−1}).
    at::Tensor e = weights[hidden];  // (1, H_L): U's slope in a_L
    for (size_t l = hidden; l-- > 0;) {
      saved[4 * hidden + l] = e;                     // u_l
      saved[3 * hidden + l] = e * saved[3 * l + 1];  // δ_l
      e = at::mm(saved[3 * hidden + l], weights[l]);
    }
    for (const at::Tensor& w : weights) saved.push_back(w);
    context->save_for_backward(saved);
    context->saved_data["activation"] = activation_index;
    context->saved_data["hidden"] = static_cast<int64_t>(hidden);
    return e;
  }

  static variable_list backward(AutogradContext* context,
                                variable_list grad_output) {
    const auto activation =
        static_cast<Activation>(context->saved_data["activation"].toInt());
    const auto hidden =
        static_cast<size_t>(context->saved_data["hidden"].toInt());
    const variable_list saved = context->get_saved_variables();
    const auto input = [&](size_t l) -> const at::Tensor& {
      return saved[3 * l];
    };
    const auto slope = [&](size_t l) -> const at::Tensor& {
      return saved[3 * l + 1];
    };
    const auto curvature = [&](size_t l) -> const at::Tensor& {
      return saved[3 * l + 2];
    };
    const auto delta = [&](size_t l) -> const at::Tensor& {
      return saved[3 * hidden + l];
    };
    const auto upstream = [&](size_t l) -> const at::Tensor& {
      return saved[4 * hidden + l];
    };
    const auto weight = [&](size_t l) -> const at::Tensor& {
      return saved[5 * hidden + l];
    };
    const bool curved = activation != Activation::kRelu;

    std::vector<at::Tensor> weight_grads(hidden + 1);
    std::vector<at::Tensor> bias_grads(hidden);
    std::vector<at::Tensor> z_bar(hidden);  // from the δ path: s̄_l ⊙ σ''(z_l)
    // Reverse of the δ chain, l = 1..L: e_l = δ_l W_l.
    at::Tensor e_bar = grad_output[0];  // (N, D)
    for (size_t l = 0; l < hidden; ++l) {
      const at::Tensor delta_bar = at::mm(e_bar, weight(l).t());  // (N, H_l)
      weight_grads[l] = at::mm(delta(l).t(), e_bar);
      // δ_l = u_l ⊙ σ'(z_l): ū_l = δ̄_l ⊙ σ'(z_l) continues the chain (u_l =
      // e_{l+1}; u_L = w), and σ'(z_l)'s cotangent δ̄_l ⊙ u_l reaches z_l.
      const at::Tensor u_bar = delta_bar * slope(l);
      if (curved) z_bar[l] = delta_bar * upstream(l) * curvature(l);
      if (l + 1 < hidden) {
        e_bar = u_bar;
      } else {
        weight_grads[hidden] = u_bar.sum(0, true);
      }
    }
    // Reverse of the forward chain, l = L..1: z_l = a_{l−1} W_lᵀ + b_l,
    // a_l = σ(z_l); U's value is not an output, so ā_L = 0. For ReLU every
    // z̄ is 0: the input's and biases' gradients stay undefined (= zero).
    at::Tensor a_bar;
    if (curved) {
      at::Tensor carried;  // ā_l ⊙ σ'(z_l) from the layer above
      for (size_t l = hidden; l-- > 0;) {
        at::Tensor zb = carried.defined() ? z_bar[l] + carried : z_bar[l];
        weight_grads[l] = weight_grads[l] + at::mm(zb.t(), input(l));
        bias_grads[l] = zb.sum(0);
        a_bar = at::mm(zb, weight(l));
        if (l > 0) carried = a_bar * slope(l - 1);
      }
    }
    variable_list out;
    out.reserve(1 + weight_grads.size() + bias_grads.size() + 1);
    out.push_back(a_bar);
    for (at::Tensor& g : weight_grads) out.push_back(std::move(g));
    for (at::Tensor& g : bias_grads) out.push_back(std::move(g));
    out.emplace_back();  // activation index
    return out;
  }
};

}  // namespace

Activated ActivateWithSlope(const at::Tensor& z, Activation activation) {
  switch (activation) {
    case Activation::kTanh: {
      auto [value, slope] = TanhAndDerivative(z);
      return {std::move(value), std::move(slope)};
    }
    case Activation::kRelu:
      return {at::relu(z), z.gt(0).to(z.dtype())};
    case Activation::kSoftplus:
      return {at::softplus(z), at::sigmoid(z)};
  }
  return {};
}

at::Tensor MlpInputGradient(const at::Tensor& a, at::TensorList weights,
                            at::TensorList biases, Activation activation) {
  return MlpInputGradientFunction::apply(a, weights, biases,
                                         static_cast<int64_t>(activation));
}

}  // namespace proxflow::core
