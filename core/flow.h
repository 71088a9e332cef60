// The flow dx/dt = v(x,t): velocity from a potential (v = −∇ₓU/λ) or a direct
// network, the training rollout with kinetic energy and HJB terms, and monitors
// (ALGORITHM.md §1, §4).
#ifndef PROXFLOW_CORE_FLOW_H_
#define PROXFLOW_CORE_FLOW_H_

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/integrators.h"
#include "core/networks.h"
#include "core/options.h"

namespace proxflow::core {

// The generator as a function of (x (N,d), t (N,1)): the potential U (returns
// (N)) or the direct velocity (returns (N,d)).
using GeneratorFn =
    std::function<at::Tensor(const at::Tensor& x, const at::Tensor& t)>;

// The flow of one generator. Holds the generator by value (a FlowNet is a
// shared handle, so training updates are seen). Not thread-safe: evaluating it
// runs the network.
class Flow {
 public:
  Flow(GeneratorFn generator, GeneratorForm form, double lambda)
      : generator_(std::move(generator)), form_(form), lambda_(lambda) {}
  // Uses the network's analytic input gradient for ∇ₓU whenever no graph is
  // needed, and its differentiable one (core/mlp_gradient.h) when a graph is
  // and the network has it at the time of the call.
  Flow(FlowNet network, GeneratorForm form, double lambda);

  struct PotentialGradients {
    at::Tensor grad_x;  // ∇ₓU, (N, d)
    at::Tensor grad_t;  // ∂tU, (N, 1); undefined unless requested
  };

  // ∇ₓU (and ∂tU when `with_time_grad`) at (x, t), potential form only. With
  // create_graph the result stays differentiable w.r.t. the network (double
  // backward) and w.r.t. x when x is part of a graph; otherwise it is detached.
  PotentialGradients Gradients(const at::Tensor& x, double t,
                               bool with_time_grad, bool create_graph) const;

  // v(x, t): −∇ₓU/λ or the direct network output.
  at::Tensor Velocity(const at::Tensor& x, double t, bool create_graph) const;

  // A detached velocity field for the integrators (autograd enabled locally for
  // ∇U).
  VelocityFn Field() const;

  // Mean over samples of |∂tU − ‖∇ₓU‖²/(2λ)| from gradients at one time.
  at::Tensor HjbResidual(const PotentialGradients& g) const;

  bool is_potential() const { return form_ == GeneratorForm::kPotential; }
  double lambda() const { return lambda_; }
  // The network of a flow built from one; a null handle otherwise.
  const FlowNet& network() const { return network_; }

  // Core internal (core/rowwise_field.cc): the network's copy for the rowwise
  // kernels, kept while the parameters it was made from are unchanged (the
  // same tensors at the same version counters).
  struct RowwiseCache {
    std::shared_ptr<const kernels::RowwiseNet> net;
    std::vector<std::pair<const void*, int64_t>> parameters;
  };
  RowwiseCache& rowwise_cache() const { return rowwise_cache_; }

 private:
  FlowNet network_{nullptr};
  mutable RowwiseCache rowwise_cache_;
  GeneratorFn generator_;
  GeneratorFn
      analytic_grad_x_;  // ∇ₓU without a graph, when the network provides it
  // ∂U/∂[x, t] as a differentiable node; returns an undefined tensor when the
  // network cannot provide it now (bf16, conv trunk, no hidden layer).
  GeneratorFn differentiable_grad_;
  GeneratorForm form_;
  double lambda_;
};

struct RolloutOptions {
  double dt = 0;
  int steps = 0;
  KineticEnergyPoint point = KineticEnergyPoint::kDetachedPostStep;
  bool create_graph = false;  // gradients to θ through every step
  bool kinetic_energy = true;
  bool hjb = false;  // potential form only
  // Per-sample path lengths and the paths' kinetic energy (monitors; off in
  // training).
  bool path_length = false;
};

struct Rollout {
  at::Tensor x_final;         // x_T
  at::Tensor kinetic_energy;  // Σ dt·mean ½‖v‖² (undefined unless requested)
  at::Tensor hjb;  // Σ dt·mean|∂tU − ‖∇U‖²/(2λ)| (undefined unless requested)
  at::Tensor
      path_length;  // per sample Σ‖x_{i+1} − x_i‖, (N), detached (monitor)
  // Σ_i mean_n ½‖x_{i+1} − x_i‖²/dt: ½∫E|v|²dt along the Euler paths
  // themselves, whatever `point` the training KE uses; detached (monitor,
  // with path_length).
  at::Tensor path_kinetic_energy;
};

// ‖∇ₓφ(x_T) − ∇ₓU(x_T, T)‖_F / N: how far U(·,T) is from the critic (terminal
// condition). Differentiable w.r.t. both networks and x_T when create_graph;
// detached otherwise.
at::Tensor TerminalResidual(
    const Flow& flow,
    const std::function<at::Tensor(const at::Tensor&)>& critic,
    const at::Tensor& x_T, double horizon, bool create_graph);

// ‖∇ₓφ(x_T) − ∇ₓU(x_T, T)‖_F itself (TerminalResidual before the division by
// N), for a batch cut into shards: the batch's norm is the root of the sum of
// the shards' squared norms.
at::Tensor TerminalResidualNorm(
    const Flow& flow,
    const std::function<at::Tensor(const at::Tensor&)>& critic,
    const at::Tensor& x_T, double horizon, bool create_graph);

// Forward-Euler rollout from x0 over [0, steps·dt]. KE and HJB are taken at the
// detached post-step point x_{i+1} with the pre-step time t_i (reference
// convention) or along the trajectory at (x_i, t_i), per `options.point`.
Rollout RollOut(const Flow& flow, const at::Tensor& x0,
                const RolloutOptions& options);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_FLOW_H_
