#include "core/fast_tanh.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "core/kernels/tanh_kernel.h"

namespace proxflow::core {
namespace {

bool UsesKernel(const at::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == at::kFloat;
}

at::Tensor KernelTanh(const at::Tensor& x) {
  const at::Tensor in = x.contiguous();
  at::Tensor out = at::empty_like(in);
  kernels::TanhKernel(in.data_ptr<float>(), out.data_ptr<float>(), nullptr,
                      in.numel());
  return out;
}

class TanhFunction : public torch::autograd::Function<TanhFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* context,
                            const at::Tensor& x) {
    at::Tensor y = KernelTanh(x);
    context->save_for_backward({y});
    return y;
  }
  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* context,
      torch::autograd::variable_list grad) {
    const at::Tensor y = context->get_saved_variables()[0];
    return {at::tanh_backward(grad[0], y)};
  }
};

}  // namespace

at::Tensor Tanh(const at::Tensor& x) {
  if (!UsesKernel(x)) return at::tanh(x);
  if (at::GradMode::is_enabled() && x.requires_grad())
    return TanhFunction::apply(x);
  return KernelTanh(x);
}

std::pair<at::Tensor, at::Tensor> TanhAndDerivative(const at::Tensor& x) {
  if (!UsesKernel(x)) {
    at::Tensor y = at::tanh(x);
    at::Tensor derivative = 1 - y * y;
    return {std::move(y), std::move(derivative)};
  }
  const at::Tensor in = x.contiguous();
  at::Tensor y = at::empty_like(in);
  at::Tensor derivative = at::empty_like(in);
  kernels::TanhKernel(in.data_ptr<float>(), y.data_ptr<float>(),
                      derivative.data_ptr<float>(), in.numel());
  return {std::move(y), std::move(derivative)};
}

}  // namespace proxflow::core
