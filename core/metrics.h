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

// Straightness of trajectories: mean over samples of Σ‖x_{i+1}−x_i‖ /
// ‖x_T−x_0‖, from the per-sample path lengths and the endpoints.
double Straightness(const at::Tensor& path_lengths, const at::Tensor& x0,
                    const at::Tensor& xT);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_METRICS_H_
