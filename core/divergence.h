// Divergence terms Λ_f^π[φ] of the critic objective (ALGORITHM.md §2).
//
// The critic maximises E_gen[φ] − Λ_f^π[φ]; the variational estimate of
// D_f(ρ_T‖π) is that difference. Stateless value type; thread-compatible.
#ifndef PROXFLOW_CORE_DIVERGENCE_H_
#define PROXFLOW_CORE_DIVERGENCE_H_

#include <ATen/core/Tensor.h>

#include "core/options.h"

namespace proxflow::core {

// Domain guard for the conjugates with a bounded domain: reverse KL needs s < 0
// and Jensen–Shannon s < log 2. Arguments are clamped to at most (bound −
// kConjugateDomainEpsilon) so that f* stays finite; the clamp has zero gradient
// beyond it, and the objective itself pushes φ away from the bound (f* → +∞
// there).
inline constexpr double kConjugateDomainEpsilon = 1e-6;

// The convex conjugate f*(s) of `kind` (a Legendre-form divergence),
// elementwise. `alpha` is used by kAlpha only. Not defined for kKlDv and kW1
// (returns undefined tensor).
at::Tensor Conjugate(DivergenceKind kind, const at::Tensor& s, double alpha);

class Divergence {
 public:
  Divergence(DivergenceKind kind, double alpha) : kind_(kind), alpha_(alpha) {}

  // Λ_f^π[φ] from φ evaluated on data samples, `phi_data` of shape (N). `nu` is
  // the learnable scalar shift of the Legendre forms (ignored by DV and W1).
  // Differentiable.
  at::Tensor Lambda(const at::Tensor& phi_data, const at::Tensor& nu) const;

  // E_gen[φ] − Λ: the variational estimate of D_f(ρ_T‖π) (a lower bound at the
  // optimum).
  at::Tensor Estimate(const at::Tensor& phi_generated,
                      const at::Tensor& phi_data, const at::Tensor& nu) const;

  bool uses_shift() const;
  DivergenceKind kind() const { return kind_; }

 private:
  DivergenceKind kind_;
  double alpha_;
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_DIVERGENCE_H_
