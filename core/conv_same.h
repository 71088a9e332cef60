// The conv trunk's convolution ("same" padding, stride 1, odd square kernel,
// no bias) as an autograd operation on core/kernels, differentiable to any
// order in both arguments. Internal to core (ConvTrunkImpl).
//
// Why: oneDNN's JIT convolutions were 59% of an mnist training iteration on
// an AVX2 EPYC, slowest on the trunk's one-channel first convolution
// (1 thread, 200 images, 7×7: forward 7.7 GFLOP/s and backward to input and
// weight 2.4, against 16.3 and 12.7 / 15.7 here; 8→8 at 14×14: oneDNN 18.6
// forward and 21.1 backward, these kernels 15.8 and ~16). With them the
// iteration ran 1.55× the PyTorch reference's (0.155 against 0.100 it/s),
// where oneDNN's gave 1.13. The kernels keep 8 channels in one vector.
//
// Where the kernels apply (CPU, float32, autocast off, channel counts with a
// lane layout: cout a multiple of 8, or cout 1 with cin a multiple of 8) the
// values are fixed FMA chains per output (row_kernels.h) and the weight
// gradient is summed over the images in index order: the same bytes at any
// thread count. Elsewhere (CUDA, bf16, fp64, other shapes) at::conv2d.
#ifndef PROXFLOW_CORE_CONV_SAME_H_
#define PROXFLOW_CORE_CONV_SAME_H_

#include <ATen/core/Tensor.h>

namespace proxflow::core {

// x (N, Cin, H, W) in any layout, w (Cout, Cin, k, k) with k odd →
// (N, Cout, H, W), channels-last strides on the kernel path.
at::Tensor ConvSame(const at::Tensor& x, const at::Tensor& w);

// ∂⟨ConvSame(x, w), g⟩/∂w for g (N, Cout, H, W): (Cout, Cin, k, k).
at::Tensor ConvSameWeightGrad(const at::Tensor& x, const at::Tensor& g,
                              int64_t k);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_CONV_SAME_H_
