#include "core/fused_adam.h"

#include <ATen/ATen.h>
#include <c10/util/string_utils.h>

#include <cmath>
#include <memory>
#include <string>

#include "core/kernels/adam_kernel.h"

namespace proxflow::core {
namespace {

bool Fusable(const at::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == at::kFloat &&
         t.is_contiguous() && !t.is_sparse();
}

// Adam's state key for p (torch::optim::Adam::step's).
std::string StateKey(const at::Tensor& p) {
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

// Whether every parameter with a gradient, and its state if it has one, can
// be updated in place by kernels::AdamUpdate.
bool GroupFusable(torch::optim::Adam& adam,
                  const torch::optim::OptimizerParamGroup& group) {
  const auto& options =
      static_cast<const torch::optim::AdamOptions&>(group.options());
  if (options.amsgrad() || options.weight_decay() != 0) return false;
  for (const at::Tensor& p : group.params()) {
    if (!p.grad().defined()) continue;
    if (!Fusable(p) || !Fusable(p.grad()) || p.grad().sizes() != p.sizes())
      return false;
    auto found = adam.state().find(StateKey(p));
    if (found == adam.state().end()) continue;
    const auto& state =
        static_cast<const torch::optim::AdamParamState&>(*found->second);
    if (!Fusable(state.exp_avg()) || !Fusable(state.exp_avg_sq())) return false;
  }
  return true;
}

}  // namespace

void FusedAdamStep(torch::optim::Adam& adam) {
  for (const auto& group : adam.param_groups()) {
    if (!GroupFusable(adam, group)) {
      adam.step();  // every group: a mixed step would be no cheaper
      return;
    }
  }
  at::NoGradGuard no_grad;
  for (auto& group : adam.param_groups()) {
    const auto& options =
        static_cast<const torch::optim::AdamOptions&>(group.options());
    const double beta1 = std::get<0>(options.betas());
    const double beta2 = std::get<1>(options.betas());
    for (at::Tensor& p : group.params()) {
      if (!p.grad().defined()) continue;
      const std::string key = StateKey(p);
      auto& states = adam.state();
      auto found = states.find(key);
      if (found == states.end()) {
        auto state = std::make_unique<torch::optim::AdamParamState>();
        state->step(0);
        state->exp_avg(at::zeros_like(p, at::MemoryFormat::Preserve));
        state->exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
        found = states.emplace(key, std::move(state)).first;
      }
      auto& state = static_cast<torch::optim::AdamParamState&>(*found->second);
      state.step(state.step() + 1);
      const double correction1 = 1 - std::pow(beta1, state.step());
      const double correction2 = 1 - std::pow(beta2, state.step());
      at::Tensor& m = state.exp_avg();
      at::Tensor& v = state.exp_avg_sq();
      kernels::AdamScalars s;
      s.beta1 = static_cast<float>(beta1);
      s.one_minus_beta1 = static_cast<float>(1 - beta1);
      s.beta2 = static_cast<float>(beta2);
      s.one_minus_beta2 = static_cast<float>(1 - beta2);
      s.root_correction2 = static_cast<float>(std::sqrt(correction2));
      s.eps = static_cast<float>(options.eps());
      s.minus_step = static_cast<float>(-(options.lr() / correction1));
      kernels::AdamUpdate(p.data_ptr<float>(), p.grad().data_ptr<float>(),
                          m.data_ptr<float>(), v.data_ptr<float>(), p.numel(),
                          s);
      // Written through raw pointers: bump the version counters as the
      // in-place operations would (the sampler's weight cache and autograd's
      // saved-tensor checks read them).
      for (const at::Tensor* t : {&p, &m, &v})
        t->unsafeGetTensorImpl()->bump_version();
    }
  }
}

}  // namespace proxflow::core
