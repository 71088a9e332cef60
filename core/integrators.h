// Explicit ODE integrators for dx/dt = v(x, t) with any step count (never
// silently replaced).
#ifndef PROXFLOW_CORE_INTEGRATORS_H_
#define PROXFLOW_CORE_INTEGRATORS_H_

#include <ATen/core/Tensor.h>

#include <atomic>
#include <functional>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/options.h"

namespace proxflow::core {

using VelocityFn = std::function<at::Tensor(const at::Tensor& x, double t)>;

// Number of velocity evaluations one step of `solver` costs (1, 2, 2, 4).
int EvaluationsPerStep(Solver solver);
absl::string_view SolverName(Solver solver);

// One step of size dt from (x, t).
at::Tensor SolverStep(Solver solver, const VelocityFn& v, const at::Tensor& x,
                      double t, double dt);

struct Trajectory {
  at::Tensor final;  // x after the last completed step
  std::vector<at::Tensor>
      frames;  // x0 and every record_every-th step (when requested)
  int steps_done = 0;
  bool cancelled = false;
};

// Integrates `steps` steps of size dt from (x0, t0). Records x0 and every
// `record_every`-th state into frames when record_every > 0 (the final state is
// always recorded then). Stops before the next step, with cancelled = true,
// once `*cancel` reads true.
Trajectory Integrate(Solver solver, const VelocityFn& v, const at::Tensor& x0,
                     double t0, double dt, int steps, int record_every = 0,
                     const std::atomic<bool>* cancel = nullptr);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_INTEGRATORS_H_
