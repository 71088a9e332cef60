#include "core/metrics.h"

#include <ATen/ATen.h>

namespace proxflow::core {

double MmdRbf(const at::Tensor& x_in, const at::Tensor& y_in,
              double bandwidth) {
  const at::Tensor x = x_in.detach().to(at::kDouble).cpu();
  const at::Tensor y = y_in.detach().to(at::kDouble).cpu();
  const int64_t n = x.size(0), m = y.size(0);
  double sigma2 = bandwidth * bandwidth;
  if (bandwidth <= 0) {
    const at::Tensor pooled =
        at::cat({x.narrow(0, 0, std::min<int64_t>(n, 1000)),
                 y.narrow(0, 0, std::min<int64_t>(m, 1000))});
    const at::Tensor d_pooled = at::cdist(pooled, pooled).pow(2);
    const at::Tensor off_diagonal =
        d_pooled.masked_select(~at::eye(pooled.size(0), at::kBool));
    sigma2 = std::max(off_diagonal.median().item<double>(), 1e-12);
  }
  const auto kernel_sum = [&](const at::Tensor& a, const at::Tensor& b,
                              bool same) {
    at::Tensor k = at::exp(-at::cdist(a, b).pow(2) / (2 * sigma2));
    double s = k.sum().item<double>();
    if (same)
      s -= static_cast<double>(a.size(0));  // drop the diagonal (k(a,a) = 1)
    return s;
  };
  const double kxx =
      kernel_sum(x, x, true) / (static_cast<double>(n) * (n - 1));
  const double kyy =
      kernel_sum(y, y, true) / (static_cast<double>(m) * (m - 1));
  const double kxy = kernel_sum(x, y, false) / (static_cast<double>(n) * m);
  return kxx + kyy - 2 * kxy;
}

double Straightness(const at::Tensor& path_lengths, const at::Tensor& x0,
                    const at::Tensor& xT) {
  const at::Tensor displacement =
      (xT - x0).detach().norm(2, {1}).clamp_min(1e-12);
  return (path_lengths.detach() / displacement).mean().item<double>();
}

}  // namespace proxflow::core
