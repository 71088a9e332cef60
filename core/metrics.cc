#include "core/metrics.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <cmath>
#include <vector>

#include "core/random_streams.h"

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

namespace {

// softmin_ε over j of (C_ij − h_j): −ε·logsumexp_j(h_j − C_ij/ε), with h = log
// w + g/ε.
at::Tensor Softmin(double eps, const at::Tensor& cost, const at::Tensor& h) {
  return -eps * at::logsumexp(h.unsqueeze(0) - cost / eps, {1});
}

at::Tensor HalfSquaredDistances(const at::Tensor& a, const at::Tensor& b) {
  return 0.5 * at::cdist(a, b).pow(2);
}

}  // namespace

double SinkhornDivergence(const at::Tensor& x_in, const at::Tensor& y_in,
                          double blur, double scaling) {
  torch::NoGradGuard no_grad;
  const at::Tensor x = x_in.detach().to(at::kDouble).cpu();
  const at::Tensor y = y_in.detach().to(at::kDouble).cpu();
  const int64_t n = x.size(0), m = y.size(0);
  const at::Tensor a_log =
      at::full({n}, -std::log(static_cast<double>(n)), at::kDouble);
  const at::Tensor b_log =
      at::full({m}, -std::log(static_cast<double>(m)), at::kDouble);
  const at::Tensor c_xy = HalfSquaredDistances(x, y);
  const at::Tensor c_yx = c_xy.t().contiguous();
  const at::Tensor c_xx = HalfSquaredDistances(x, x);
  const at::Tensor c_yy = HalfSquaredDistances(y, y);

  // ε schedule (p = 2): diameter² down to blur² in steps of scaling².
  const at::Tensor all = at::cat({x, y});
  const double diameter = std::max(
      (std::get<0>(all.max(0)) - std::get<0>(all.min(0))).norm().item<double>(),
      blur);
  std::vector<double> eps_list = {diameter * diameter};
  for (double e = 2 * std::log(diameter); e > 2 * std::log(blur);
       e += 2 * std::log(scaling)) {
    eps_list.push_back(std::exp(e));
  }
  eps_list.push_back(blur * blur);

  double eps = eps_list.front();
  at::Tensor f_ba = Softmin(eps, c_xy, b_log);
  at::Tensor g_ab = Softmin(eps, c_yx, a_log);
  at::Tensor f_aa = Softmin(eps, c_xx, a_log);
  at::Tensor g_bb = Softmin(eps, c_yy, b_log);
  for (double e : eps_list) {
    eps = e;
    const at::Tensor ft_ba = Softmin(eps, c_xy, b_log + g_ab / eps);
    const at::Tensor gt_ab = Softmin(eps, c_yx, a_log + f_ba / eps);
    const at::Tensor ft_aa = Softmin(eps, c_xx, a_log + f_aa / eps);
    const at::Tensor gt_bb = Softmin(eps, c_yy, b_log + g_bb / eps);
    f_ba = 0.5 * (f_ba + ft_ba);
    g_ab = 0.5 * (g_ab + gt_ab);
    f_aa = 0.5 * (f_aa + ft_aa);
    g_bb = 0.5 * (g_bb + gt_bb);
  }
  // Final extrapolation at ε = blur²: one full (not averaged) update from the
  // last potentials.
  eps = blur * blur;
  const at::Tensor f_final = Softmin(eps, c_xy, b_log + g_ab / eps);
  const at::Tensor g_final = Softmin(eps, c_yx, a_log + f_ba / eps);
  const at::Tensor f_self = Softmin(eps, c_xx, a_log + f_aa / eps);
  const at::Tensor g_self = Softmin(eps, c_yy, b_log + g_bb / eps);
  return ((f_final - f_self).mean() + (g_final - g_self).mean()).item<double>();
}

double SlicedW2(const at::Tensor& x_in, const at::Tensor& y_in, int projections,
                uint64_t seed) {
  torch::NoGradGuard no_grad;
  const int64_t k = std::min(x_in.size(0), y_in.size(0));
  const at::Tensor x = x_in.detach().to(at::kDouble).cpu().narrow(0, 0, k);
  const at::Tensor y = y_in.detach().to(at::kDouble).cpu().narrow(0, 0, k);
  at::Generator gen = MakeCpuGenerator(seed);
  at::Tensor directions = at::randn({x.size(1), projections}, gen, at::kDouble);
  directions = directions / directions.norm(2, {0}, true);
  const at::Tensor px = std::get<0>(at::matmul(x, directions).sort(0));
  const at::Tensor py = std::get<0>(at::matmul(y, directions).sort(0));
  return std::sqrt((px - py).pow(2).mean().item<double>());
}

double Straightness(const at::Tensor& path_lengths, const at::Tensor& x0,
                    const at::Tensor& xT) {
  const double displacement =
      (xT - x0).detach().norm(2, {1}).sum().item<double>();
  const double path = path_lengths.detach().sum().item<double>();
  return path > 0 ? displacement / path : 1.0;
}

}  // namespace proxflow::core
