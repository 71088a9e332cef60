// Sample-quality metrics on point clouds (torch tensors). Thread-compatible.
#ifndef PROXFLOW_CORE_METRICS_H_
#define PROXFLOW_CORE_METRICS_H_

#include <ATen/core/Tensor.h>

namespace proxflow::core {

// Unbiased squared MMD between samples x (N, d) and y (M, d) with a Gaussian
// RBF kernel k(a,b) = exp(−‖a−b‖²/(2σ²)). With bandwidth σ <= 0, σ² is the
// median pairwise squared distance of the pooled sample (median heuristic; at
// most 1,000 points of each side used). The median bandwidth sees mostly scale;
// pass a σ near the data's feature size to see modes. Double precision.
double MmdRbf(const at::Tensor& x, const at::Tensor& y, double bandwidth = 0);

// Debiased Sinkhorn divergence S_ε(x, y) = OT_ε(x,y) − ½OT_ε(x,x) − ½OT_ε(y,y)
// with uniform weights, cost ½‖a−b‖² (p = 2) and ε = blur², computed in the log
// domain with ε-scaling (annealing from the point clouds' diameter down to blur
// by factor `scaling` per step, symmetric averaged updates, a final
// extrapolation step): the convention of the paper's table (GeomLoss
// "sinkhorn", p=2, blur=0.05). Double precision; O(N·M) memory.
double SinkhornDivergence(const at::Tensor& x, const at::Tensor& y,
                          double blur = 0.05, double scaling = 0.5);

// Sliced Wasserstein-2 distance: sqrt of the mean over `projections` random
// unit directions (drawn from `seed`) of the squared W2 between the projected
// samples. Uses the first min(N, M) points of each side.
double SlicedW2(const at::Tensor& x, const at::Tensor& y, int projections = 256,
                uint64_t seed = 0);

// Straightness of trajectories in (0, 1], 1 = every path a straight line:
// Σ_n ‖x_T−x_0‖ / Σ_n Σ_i ‖x_{i+1}−x_i‖ over the samples n, from the per-sample
// path lengths and the endpoints. The reciprocal of the path-to-displacement
// ratio Σ‖x_{i+1}−x_i‖/‖x_T−x_0‖ aggregated as a ratio of sums: a mean of
// per-sample ratios is dominated by samples that barely move. 1 when no
// sample moves.
double Straightness(const at::Tensor& path_lengths, const at::Tensor& x0,
                    const at::Tensor& xT);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_METRICS_H_
