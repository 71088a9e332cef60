// Finite-difference gradient checks for tests (double precision).
#ifndef PROXFLOW_TESTS_TESTING_GRADIENT_CHECK_H_
#define PROXFLOW_TESTS_TESTING_GRADIENT_CHECK_H_

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace proxflow::testing {

struct GradientCheckResult {
  double max_abs_error =
      0;  // max |autograd − central difference| over checked entries
  double max_abs_grad = 0;  // max |autograd| over checked entries
  int checked = 0;          // entries compared
};

// Compares the autograd gradient of `loss()` (a scalar, float64) w.r.t. every
// entry of `params` (at most `max_entries_per_tensor` each, spread evenly) with
// central differences of step `h`. `loss` is re-evaluated for each perturbation
// and must be deterministic.
GradientCheckResult CheckGradients(const std::function<at::Tensor()>& loss,
                                   const std::vector<at::Tensor>& params,
                                   double h = 1e-6,
                                   int max_entries_per_tensor = 16);

// As above, but the finite differences are taken of `reference` instead of
// `loss`: for terms whose gradient is by design a partial one (e.g. evaluated
// at detached points), `reference` freezes what `loss` detaches, so both
// describe the same derivative.
GradientCheckResult CheckGradients(const std::function<at::Tensor()>& loss,
                                   const std::function<at::Tensor()>& reference,
                                   const std::vector<at::Tensor>& params,
                                   double h = 1e-6,
                                   int max_entries_per_tensor = 16);

}  // namespace proxflow::testing

#endif  // PROXFLOW_TESTS_TESTING_GRADIENT_CHECK_H_
