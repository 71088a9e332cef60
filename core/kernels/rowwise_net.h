// A FlowNet (core/networks.h) evaluated row by row on the batch-invariant
// kernels of row_kernels.h: the forward pass and the input gradient ∇ₓU of
// the MLP and of the 28×28 conv trunk + MLP, in float32, without LibTorch.
//
// What it guarantees (the sampling service's determinism rests on it): the
// values computed for a row are a function of that row's input, t and the
// weights alone, the same bits whatever rows share the call, in which order,
// on which thread, under which OpenBLAS kernels; and on every x86-64 CPU with
// AVX2+FMA alike (tanh is TanhKernel, whose FMA clones agree; softplus uses
// libm's exp and log1p). The values are the network's to float rounding, not
// bit for bit LibTorch's (other summation orders).
//
// Thread-compatible: const methods may run concurrently on one RowwiseNet.
#ifndef PROXFLOW_CORE_KERNELS_ROWWISE_NET_H_
#define PROXFLOW_CORE_KERNELS_ROWWISE_NET_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/kernels/row_kernels.h"
#include "core/options.h"

namespace proxflow::core::kernels {

// Features out of the 28×28 conv trunk (8 channels × 7 × 7): ConvTrunkImpl's
// and RowwiseNet's shape.
inline constexpr int64_t kTrunkFeatures = 392;

// A network's weights in LibTorch's layouts, as FlowNet holds them.
struct NetWeights {
  int64_t input_dim = 0;   // x's dimension (784 with a conv trunk)
  bool with_time = false;  // t is the last input of the first linear layer
  Activation activation = Activation::kTanh;
  // The conv trunk, empty without one: conv1 (8, 1, 7, 7), conv2 (8, 8, 7, 7)
  // as (out, in, ky, kx), no biases (ConvTrunkImpl).
  std::vector<float> conv1;
  std::vector<float> conv2;
  struct Linear {
    int64_t in = 0;
    int64_t out = 0;
    std::vector<float> weight;  // (out, in)
    std::vector<float> bias;    // (out)
  };
  std::vector<Linear> layers;  // hidden layers, then the output layer
  // A potential's (a₀, a₁) of ½(a₀ + a₁t)‖x‖² added to U; empty: no term.
  std::vector<float> quadratic;
};

class RowwiseNet {
 public:
  // Checks every shape (the trunk's, each layer's against the previous and
  // the input, a scalar output when `potential`). INVALID_ARGUMENT naming the
  // tensor otherwise.
  static absl::StatusOr<RowwiseNet> Create(const NetWeights& weights,
                                           bool potential);

  int64_t input_dim() const { return input_dim_; }
  int64_t output_dim() const { return output_dim_; }

  // Rows b < n of `x` (row stride input_dim()) at time t: `out` (row stride
  // input_dim()) gets ∂U/∂x (a potential) or the network's output (otherwise:
  // output_dim() values per row), times `scale`.
  void Evaluate(const float* x, int64_t n, float t, float scale, float* out,
                Isa isa = Isa::kBest) const;

 private:
  struct Layer {
    int64_t in = 0;
    int64_t out = 0;
    std::vector<float> forward;   // Wᵀ: in × LaneStride(out), padding zero
    std::vector<float> backward;  // W: out × LaneStride(in), padding zero
    std::vector<float> bias;      // LaneStride(out), padding zero
    MatrixView Forward() const;
    MatrixView Backward() const;
  };

  // The features of rows b < n (row stride `stride`): the input row, or the
  // conv trunk's 392 values, then t when with_time_. With `pool_codes` (a
  // potential with a trunk), also where each pooled value came from.
  void Features(const float* x, int64_t n, float t, float* features,
                int64_t stride, std::vector<uint8_t>* pool_codes,
                Isa isa) const;
  // ∂U/∂x · scale from ∂U/∂features through the trunk.
  void TrunkGradient(const float* feature_grad, int64_t stride, int64_t n,
                     const std::vector<uint8_t>& pool_codes, float scale,
                     float* out, Isa isa) const;

  int64_t input_dim_ = 0;
  int64_t output_dim_ = 0;
  bool with_time_ = false;
  bool potential_ = false;
  bool trunk_ = false;
  Activation activation_ = Activation::kTanh;
  std::vector<float> conv1_;       // forward: 7 × 7 × 1 × 8
  std::vector<float> conv2_;       // forward: 7 × 7 × 8 × 8
  std::vector<float> conv2_back_;  // flipped: 7 × 7 × 8 (out) × 8 (in)
  std::vector<float> conv1_back_;  // flipped: 7 × 7 × 8 (out) × 1
  std::vector<Layer> layers_;      // hidden layers, then the output layer
  std::vector<float> output_row_;  // a potential's w (its gradient seed)
  std::vector<float> quadratic_;   // (a₀, a₁) or empty
};

}  // namespace proxflow::core::kernels

#endif  // PROXFLOW_CORE_KERNELS_ROWWISE_NET_H_
