#include "core/integrators.h"

namespace proxflow::core {

int EvaluationsPerStep(Solver solver) {
  switch (solver) {
    case Solver::kEuler:
      return 1;
    case Solver::kHeun:
    case Solver::kMidpoint:
      return 2;
    case Solver::kRk4:
      return 4;
  }
  return 1;
}

absl::string_view SolverName(Solver solver) {
  switch (solver) {
    case Solver::kEuler:
      return "euler";
    case Solver::kHeun:
      return "heun";
    case Solver::kMidpoint:
      return "midpoint";
    case Solver::kRk4:
      return "rk4";
  }
  return "unknown";
}

at::Tensor SolverStep(Solver solver, const VelocityFn& v, const at::Tensor& x,
                      double t, double dt) {
  switch (solver) {
    case Solver::kEuler:
      return x + dt * v(x, t);
    case Solver::kHeun: {
      const at::Tensor k1 = v(x, t);
      const at::Tensor k2 = v(x + dt * k1, t + dt);
      return x + (0.5 * dt) * (k1 + k2);
    }
    case Solver::kMidpoint: {
      const at::Tensor k1 = v(x, t);
      return x + dt * v(x + (0.5 * dt) * k1, t + 0.5 * dt);
    }
    case Solver::kRk4: {
      const at::Tensor k1 = v(x, t);
      const at::Tensor k2 = v(x + (0.5 * dt) * k1, t + 0.5 * dt);
      const at::Tensor k3 = v(x + (0.5 * dt) * k2, t + 0.5 * dt);
      const at::Tensor k4 = v(x + dt * k3, t + dt);
      return x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
  }
  return x;
}

Trajectory Integrate(Solver solver, const VelocityFn& v, const at::Tensor& x0,
                     double t0, double dt, int steps, int record_every,
                     const std::atomic<bool>* cancel) {
  Trajectory out;
  at::Tensor x = x0;
  if (record_every > 0) out.frames.push_back(x);
  for (int i = 0; i < steps; ++i) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      out.cancelled = true;
      break;
    }
    // t_i = t0 + i·dt, not an accumulated sum, so long runs do not drift in
    // time.
    x = SolverStep(solver, v, x, t0 + i * dt, dt);
    out.steps_done = i + 1;
    if (record_every > 0 &&
        (out.steps_done % record_every == 0 || out.steps_done == steps)) {
      out.frames.push_back(x);
    }
  }
  out.final = x;
  return out;
}

}  // namespace proxflow::core
