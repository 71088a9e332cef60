#include "core/conv_same.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include <cstring>
#include <vector>

#include "core/kernels/row_kernels.h"
#include "core/team_tasks.h"

namespace proxflow::core {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Whether the kernels take a convolution of x (N, cin, H, W) to cout channels
// with a k × k kernel.
bool KernelsApply(const at::Tensor& x, int64_t cin, int64_t cout, int64_t k) {
  if (!x.is_cpu() || x.scalar_type() != at::kFloat || x.dim() != 4 ||
      at::autocast::is_cpu_enabled() || k % 2 == 0 || x.size(1) != cin) {
    return false;
  }
  return cout % kernels::kLanes == 0 ||
         (cout == 1 && cin % kernels::kLanes == 0);
}

// Image i of x_nhwc (N, H, W, C contiguous) into `padded` ((H+2p) × (W+2p) ×
// C, borders zero).
void PadImage(const float* x_nhwc, int64_t i, int64_t h, int64_t w, int64_t c,
              int64_t p, std::vector<float>& padded) {
  const int64_t row = (w + 2 * p) * c;
  for (int64_t y = 0; y < h; ++y) {
    std::memcpy(&padded[(y + p) * row + p * c], x_nhwc + ((i * h + y) * w) * c,
                sizeof(float) * w * c);
  }
}

at::Tensor Nhwc(const at::Tensor& x) {
  return x.permute({0, 2, 3, 1}).contiguous();
}

at::Tensor KernelConv(const at::Tensor& x, const at::Tensor& w) {
  const int64_t n = x.size(0), cin = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t cout = w.size(0), k = w.size(2), p = k / 2;
  const at::Tensor xn = Nhwc(x);
  const at::Tensor taps = w.permute({2, 3, 1, 0}).contiguous();  // k,k,cin,cout
  at::Tensor out = at::empty({n, h, wd, cout}, x.options());
  const float* src = xn.data_ptr<float>();
  const float* weights = taps.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  RunRowSpans(n, 1, [&](int64_t begin, int64_t images) {
    std::vector<float> padded((h + 2 * p) * (wd + 2 * p) * cin, 0.0f);
    for (int64_t i = begin; i < begin + images; ++i) {
      PadImage(src, i, h, wd, cin, p, padded);
      kernels::ConvSameNhwc(padded.data(), h, wd, cin, weights, k, cout,
                            dst + i * h * wd * cout);
    }
  });
  return out.permute({0, 3, 1, 2});
}

at::Tensor KernelWeightGrad(const at::Tensor& x, const at::Tensor& g,
                            int64_t k) {
  const int64_t n = x.size(0), cin = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t cout = g.size(1), p = k / 2, size = k * k * cin * cout;
  const at::Tensor xn = Nhwc(x);
  const at::Tensor gn = Nhwc(g);
  std::vector<float> partial(n * size);
  const float* src = xn.data_ptr<float>();
  const float* grad = gn.data_ptr<float>();
  RunRowSpans(n, 1, [&](int64_t begin, int64_t images) {
    std::vector<float> padded((h + 2 * p) * (wd + 2 * p) * cin, 0.0f);
    for (int64_t i = begin; i < begin + images; ++i) {
      PadImage(src, i, h, wd, cin, p, padded);
      kernels::ConvWeightGradNhwc(padded.data(), h, wd, cin,
                                  grad + i * h * wd * cout, k, cout,
                                  partial.data() + i * size);
    }
  });
  // The images' sum in index order, whatever the threads did.
  at::Tensor sum = at::zeros({k, k, cin, cout}, x.options());
  float* total = sum.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float* part = partial.data() + i * size;
    for (int64_t j = 0; j < size; ++j) total[j] += part[j];
  }
  return sum.permute({3, 2, 0, 1}).contiguous();
}

// The input gradient's weights: the kernel flipped in space, in and out
// channels exchanged (differentiable).
at::Tensor Transposed(const at::Tensor& w) {
  return w.transpose(0, 1).flip({2, 3});
}

class ConvSameFunction : public torch::autograd::Function<ConvSameFunction> {
 public:
  static at::Tensor forward(AutogradContext* context, const at::Tensor& x,
                            const at::Tensor& w) {
    context->save_for_backward({x, w});
    return KernelConv(x, w);
  }
  static variable_list backward(AutogradContext* context, variable_list grads) {
    const variable_list saved = context->get_saved_variables();
    const at::Tensor& g = grads[0];
    at::Tensor gx, gw;
    if (context->needs_input_grad(0)) gx = ConvSame(g, Transposed(saved[1]));
    if (context->needs_input_grad(1)) {
      gw = ConvSameWeightGrad(saved[0], g, saved[1].size(2));
    }
    return {gx, gw};
  }
};

// W(x, g) = ConvSameWeightGrad(x, g): bilinear; ⟨G, W(x, g)⟩ has x-gradient
// ConvSame(g, Transposed(G)) and g-gradient ConvSame(x, G).
class WeightGradFunction
    : public torch::autograd::Function<WeightGradFunction> {
 public:
  static at::Tensor forward(AutogradContext* context, const at::Tensor& x,
                            const at::Tensor& g, int64_t k) {
    context->save_for_backward({x, g});
    return KernelWeightGrad(x, g, k);
  }
  static variable_list backward(AutogradContext* context, variable_list grads) {
    const variable_list saved = context->get_saved_variables();
    const at::Tensor& gw = grads[0];
    at::Tensor gx, gg;
    if (context->needs_input_grad(0)) gx = ConvSame(saved[1], Transposed(gw));
    if (context->needs_input_grad(1)) gg = ConvSame(saved[0], gw);
    return {gx, gg, at::Tensor()};
  }
};

}  // namespace

at::Tensor ConvSame(const at::Tensor& x, const at::Tensor& w) {
  const int64_t k = w.size(2);
  if (w.scalar_type() != at::kFloat || !w.is_cpu() ||
      !KernelsApply(x, w.size(1), w.size(0), k)) {
    return at::conv2d(x, w, {}, 1, k / 2);
  }
  return ConvSameFunction::apply(x, w);
}

at::Tensor ConvSameWeightGrad(const at::Tensor& x, const at::Tensor& g,
                              int64_t k) {
  if (g.scalar_type() != at::kFloat || !g.is_cpu() ||
      !KernelsApply(x, x.size(1), g.size(1), k)) {
    // conv2d with the images as channels: out[ci][co] = Σ_n x[n][ci] ⋆
    // g[n][co].
    return at::conv2d(x.transpose(0, 1), g.transpose(0, 1), {}, 1, k / 2)
        .transpose(0, 1);
  }
  return WeightGradFunction::apply(x, g, k);
}

}  // namespace proxflow::core
