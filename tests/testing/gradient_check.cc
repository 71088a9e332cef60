#include "tests/testing/gradient_check.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>

namespace proxflow::testing {

GradientCheckResult CheckGradients(const std::function<at::Tensor()>& loss,
                                   const std::vector<at::Tensor>& params,
                                   double h, int max_entries_per_tensor) {
  return CheckGradients(loss, loss, params, h, max_entries_per_tensor);
}

GradientCheckResult CheckGradients(const std::function<at::Tensor()>& loss,
                                   const std::function<at::Tensor()>& reference,
                                   const std::vector<at::Tensor>& params,
                                   double h, int max_entries_per_tensor) {
  std::vector<at::Tensor> inputs;
  for (const at::Tensor& p : params) inputs.push_back(p);
  const auto analytic =
      torch::autograd::grad({loss()}, inputs, {}, false, false, true);
  GradientCheckResult result;
  // In-place edits of leaf parameters need grad mode off; loss() itself needs
  // it on (it may take gradients, e.g. ∇U or the penalty).
  const auto set = [](at::Tensor& flat, int64_t j, double value) {
    torch::NoGradGuard no_grad;
    flat[j] = value;
  };
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor flat = params[i].detach().view({-1});
    const at::Tensor g = analytic[i].defined() ? analytic[i].reshape({-1})
                                               : at::zeros_like(flat);
    const int64_t n = flat.numel();
    const int64_t stride = std::max<int64_t>(1, n / max_entries_per_tensor);
    for (int64_t j = 0; j < n; j += stride) {
      const double saved = flat[j].item<double>();
      set(flat, j, saved + h);
      const double plus = reference().item<double>();
      set(flat, j, saved - h);
      const double minus = reference().item<double>();
      set(flat, j, saved);
      const double numeric = (plus - minus) / (2 * h);
      const double a = g[j].item<double>();
      result.max_abs_error =
          std::max(result.max_abs_error, std::abs(a - numeric));
      result.max_abs_grad = std::max(result.max_abs_grad, std::abs(a));
      ++result.checked;
    }
  }
  return result;
}

}  // namespace proxflow::testing
