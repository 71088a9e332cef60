#include "core/divergence.h"

#include <ATen/ATen.h>

#include <cmath>

namespace proxflow::core {

at::Tensor Conjugate(DivergenceKind kind, const at::Tensor& s, double alpha) {
  switch (kind) {
    case DivergenceKind::kKlLegendre:
      return at::exp(s - 1.0);
    case DivergenceKind::kReverseKl:
      return -1.0 - at::log(-at::clamp_max(s, -kConjugateDomainEpsilon));
    case DivergenceKind::kAlpha: {
      const double power = alpha / (alpha - 1.0);
      return (1.0 / alpha) *
             (1.0 / (alpha - 1.0) +
              at::pow((alpha - 1.0) * at::clamp_min(s, 0.0), power));
    }
    case DivergenceKind::kJensenShannon:
      return -at::log(2.0 - at::exp(at::clamp_max(
                                s, std::log(2.0) - kConjugateDomainEpsilon)));
    case DivergenceKind::kKlDv:
    case DivergenceKind::kW1:
      break;
  }
  return {};
}

bool Divergence::uses_shift() const {
  return kind_ != DivergenceKind::kKlDv && kind_ != DivergenceKind::kW1;
}

at::Tensor Divergence::Lambda(const at::Tensor& phi_data,
                              const at::Tensor& nu) const {
  switch (kind_) {
    case DivergenceKind::kKlDv:
      // log E[e^φ] computed stably as logsumexp − log N.
      return at::logsumexp(phi_data, {0}) -
             std::log(static_cast<double>(phi_data.size(0)));
    case DivergenceKind::kW1:
      return phi_data.mean();
    default: {
      const at::Tensor shift = nu.to(phi_data.dtype());
      return shift + Conjugate(kind_, phi_data - shift, alpha_).mean();
    }
  }
}

at::Tensor Divergence::Estimate(const at::Tensor& phi_generated,
                                const at::Tensor& phi_data,
                                const at::Tensor& nu) const {
  return phi_generated.mean() - Lambda(phi_data, nu);
}

}  // namespace proxflow::core
