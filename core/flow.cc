#include "core/flow.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

namespace proxflow::core {
namespace {

at::Tensor TimeColumn(const at::Tensor& x, double t, bool requires_grad) {
  return at::full({x.size(0), 1}, t, x.options().requires_grad(false))
      .requires_grad_(requires_grad);
}

// ½‖v‖² averaged over samples.
at::Tensor HalfSquaredSpeed(const at::Tensor& v) {
  return 0.5 * v.pow(2).sum(1).mean();
}

}  // namespace

Flow::Flow(FlowNet network, GeneratorForm form, double lambda)
    : Flow(
          [network](const at::Tensor& x, const at::Tensor& t) mutable {
            return network->forward(x, t);
          },
          form, lambda) {
  network_ = network;
  if (form == GeneratorForm::kPotential &&
      network->has_analytic_input_gradient()) {
    analytic_grad_x_ = [network](const at::Tensor& x,
                                 const at::Tensor& t) mutable {
      return network->InputGradient(x, t);
    };
    differentiable_grad_ = [network](const at::Tensor& x,
                                     const at::Tensor& t) mutable {
      return network->DifferentiableInputGradient(x, t);
    };
  }
}

Flow::PotentialGradients Flow::Gradients(const at::Tensor& x, double t,
                                         bool with_time_grad,
                                         bool create_graph) const {
  if (!create_graph && !with_time_grad && analytic_grad_x_) {
    return {analytic_grad_x_(x.detach(), TimeColumn(x, t, false)), {}};
  }
  torch::AutoGradMode enable_grad(true);
  if (create_graph && differentiable_grad_) {
    const at::Tensor g = differentiable_grad_(x, TimeColumn(x, t, false));
    if (g.defined()) {
      const int64_t d = x.size(1);
      return {g.narrow(1, 0, d),
              with_time_grad ? g.narrow(1, d, 1) : at::Tensor()};
    }
  }
  at::Tensor xi = x;
  if (!create_graph || !x.requires_grad()) xi = x.detach().requires_grad_(true);
  at::Tensor ti = TimeColumn(x, t, with_time_grad);
  at::Tensor u = generator_(xi, ti);
  std::vector<at::Tensor> inputs = {xi};
  if (with_time_grad) inputs.push_back(ti);
  auto grads = torch::autograd::grad({u.sum()}, inputs, {},
                                     /*retain_graph=*/create_graph,
                                     /*create_graph=*/create_graph);
  PotentialGradients out;
  out.grad_x = create_graph ? grads[0] : grads[0].detach();
  if (with_time_grad) out.grad_t = create_graph ? grads[1] : grads[1].detach();
  return out;
}

at::Tensor Flow::Velocity(const at::Tensor& x, double t,
                          bool create_graph) const {
  if (is_potential()) {
    return Gradients(x, t, /*with_time_grad=*/false, create_graph).grad_x *
           (-1.0 / lambda_);
  }
  if (create_graph) return generator_(x, TimeColumn(x, t, false));
  torch::NoGradGuard no_grad;
  return generator_(x.detach(), TimeColumn(x, t, false));
}

VelocityFn Flow::Field() const {
  return
      [this](const at::Tensor& x, double t) { return Velocity(x, t, false); };
}

at::Tensor Flow::HjbResidual(const PotentialGradients& g) const {
  return (g.grad_t.squeeze(1) - g.grad_x.pow(2).sum(1) / (2.0 * lambda_))
      .abs()
      .mean();
}

at::Tensor TerminalResidualNorm(
    const Flow& flow,
    const std::function<at::Tensor(const at::Tensor&)>& critic,
    const at::Tensor& x_T, double horizon, bool create_graph) {
  torch::AutoGradMode enable_grad(true);
  at::Tensor x = x_T;
  if (!create_graph || !x.requires_grad())
    x = x_T.detach().requires_grad_(true);
  const at::Tensor grad_phi =
      torch::autograd::grad({critic(x).sum()}, {x}, {},
                            /*retain_graph=*/true, create_graph)[0];
  const at::Tensor grad_u =
      flow.Gradients(x, horizon, false, create_graph).grad_x;
  const at::Tensor norm = (grad_phi - grad_u).norm();
  return create_graph ? norm : norm.detach();
}

at::Tensor TerminalResidual(
    const Flow& flow,
    const std::function<at::Tensor(const at::Tensor&)>& critic,
    const at::Tensor& x_T, double horizon, bool create_graph) {
  const at::Tensor norm =
      TerminalResidualNorm(flow, critic, x_T, horizon, create_graph);
  const at::Tensor r = norm / static_cast<double>(x_T.size(0));
  return create_graph ? r : r.detach();
}

Rollout RollOut(const Flow& flow, const at::Tensor& x0,
                const RolloutOptions& o) {
  const bool hjb = o.hjb && flow.is_potential();
  Rollout out;
  at::Tensor ke = at::zeros({}, x0.options());
  at::Tensor hjb_sum = at::zeros({}, x0.options());
  at::Tensor path =
      o.path_length ? at::zeros({x0.size(0)}, x0.options()) : at::Tensor();
  at::Tensor path_ke =
      o.path_length ? at::zeros({}, x0.options()) : at::Tensor();
  at::Tensor x = x0;
  for (int i = 0; i < o.steps; ++i) {
    const double t = i * o.dt;
    at::Tensor v;
    if (o.point == KineticEnergyPoint::kTrajectory && hjb) {
      // One evaluation serves the step, KE and HJB.
      const Flow::PotentialGradients g =
          flow.Gradients(x, t, true, o.create_graph);
      v = g.grad_x * (-1.0 / flow.lambda());
      hjb_sum = hjb_sum + o.dt * flow.HjbResidual(g);
    } else {
      v = flow.Velocity(x, t, o.create_graph);
    }
    if (o.point == KineticEnergyPoint::kTrajectory && o.kinetic_energy) {
      ke = ke + o.dt * HalfSquaredSpeed(v);
    }
    const at::Tensor next = x + o.dt * v;
    if (o.path_length) {
      const at::Tensor squared = (next - x).detach().square().sum(1);
      path = path + squared.sqrt();
      path_ke = path_ke + squared.mean() * (0.5 / o.dt);
    }
    x = next;
    if (o.point == KineticEnergyPoint::kDetachedPostStep &&
        (o.kinetic_energy || hjb)) {
      const at::Tensor xd = x.detach();
      if (hjb) {
        const Flow::PotentialGradients g =
            flow.Gradients(xd, t, true, o.create_graph);
        hjb_sum = hjb_sum + o.dt * flow.HjbResidual(g);
        if (o.kinetic_energy)
          ke = ke + o.dt * HalfSquaredSpeed(g.grad_x / flow.lambda());
      } else {
        ke = ke + o.dt * HalfSquaredSpeed(flow.Velocity(xd, t, o.create_graph));
      }
    }
  }
  out.x_final = x;
  if (o.kinetic_energy) out.kinetic_energy = ke;
  if (hjb) out.hjb = hjb_sum;
  if (o.path_length) {
    out.path_length = path;
    out.path_kinetic_energy = path_ke;
  }
  return out;
}

}  // namespace proxflow::core
