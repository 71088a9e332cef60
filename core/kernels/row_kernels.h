// Batch-invariant kernels for the sampling path (torch-free, single-threaded).
//
// The contract every kernel here keeps: each output value is computed by one
// fixed sequence of IEEE operations on the values it depends on, whatever the
// number of rows (images) in the call, the position of a row in it, the thread
// it runs on and the OpenBLAS kernels the process loaded. Every product-sum is
// an FMA chain from 0 in the documented order (FMA rounds once, so a vector
// lane, a scalar std::fma and a wider or narrower vector give the same bits):
// the AVX2 path and the portable path are the same function of their inputs,
// bit for bit (tests/core/row_kernels_test.cc checks it on every shape).
//
// Layout: row-major float32. Matrices and channel dimensions of outputs are
// stored with a lane stride: a multiple of kLanes floats, the padding lanes
// zero in matrices and biases, and written (with values of no meaning) in
// outputs. Thread-compatible: no state.
#ifndef PROXFLOW_CORE_KERNELS_ROW_KERNELS_H_
#define PROXFLOW_CORE_KERNELS_ROW_KERNELS_H_

#include <cstdint>

namespace proxflow::core::kernels {

inline constexpr int64_t kLanes = 8;

// The smallest multiple of kLanes that is >= n.
constexpr int64_t LaneStride(int64_t n) {
  return (n + kLanes - 1) / kLanes * kLanes;
}

// Instruction sets a kernel can run on. kBest: the widest the CPU has that the
// kernel implements (AVX2+FMA for the row kernels; AVX-512 too for the tanh
// and the conv trunk's forward convolutions),
// else kPortable (scalar std::fma: the same bits, slower). Tests name the
// others to compare them.
enum class Isa { kBest, kAvx512, kAvx2, kPortable };

// Whether the kernels may run `isa` here (kBest and kPortable: always;
// kAvx512: the CPU has AVX-512 F; kAvx2: AVX2 and FMA), under the cap below.
bool IsaSupported(Isa isa);

// The widest instruction set kBest runs here: the CPU's, capped by the
// environment variable PROXFLOW_KERNEL_ISA (avx512, avx2 or portable; unset or
// any other value: no cap), read once per process. A cap makes this CPU run
// the code a CPU without AVX-512 (or without AVX2) runs, for benchmarks and
// tests; the values are the same bits either way.
Isa BestIsa();

// "avx512", "avx2", "portable" (kBest: BestIsa()'s name).
const char* IsaName(Isa isa);

// A (rows × cols) matrix, row-major with `stride` (a multiple of kLanes, >=
// cols) floats per row, the padding zero.
struct MatrixView {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t stride = 0;
};

// out[b][j] = (Σ_{k<K} in[b][k]·m[k][j]) + bias[j] for b < n, j <
// LaneStride(m.cols); K = m.rows. The sum is acc ← fma(in[b][k], m[k][j], acc)
// for k = 0 … K−1 from acc = +0, then one addition of bias[j] (skipped when
// bias is null). `bias` has LaneStride(m.cols) floats; out_stride >=
// LaneStride(m.cols); in and out do not overlap.
void DenseRows(const float* in, int64_t n, int64_t in_stride,
               const MatrixView& m, const float* bias, float* out,
               int64_t out_stride, Isa isa = Isa::kBest);

// A "same" convolution of stride 1 over one image in NHWC layout, no bias:
// out[y][x][co] = Σ_{ky<k} Σ_{kx<k} Σ_{ci<cin}
// in[y+ky][x+kx][ci]·w[ky][kx][ci][co] for y < h, x < width, where `in` is the
// image already zero-padded by k/2 on every side: (h+k−1) × (width+k−1) pixels
// of cin floats. `w` is k × k × cin × cout, row-major. out has `out_channels`
// floats per pixel.
//  * cout a multiple of kLanes (out_channels == cout): each value is an FMA
//    chain over (ky, kx, ci) in that order (ci fastest).
//  * cout == 1 and cin a multiple of kLanes (out_channels == 1): kLanes chains,
//    chain l over (ky, kx, ci ≡ l mod kLanes) in that order, then the pairwise
//    sum ((c0+c1)+(c2+c3))+((c4+c5)+(c6+c7)).
// Other shapes are refused (returns false, writes nothing).
bool ConvSameNhwc(const float* in, int64_t h, int64_t width, int64_t cin,
                  const float* w, int64_t k, int64_t cout, float* out,
                  Isa isa = Isa::kBest);

// The weight gradient of ConvSameNhwc for one image:
// out[ky][kx][ci][co] = Σ_{y<h} Σ_{x<width} in[y+ky][x+kx][ci]·g[y][x][co],
// `in` zero-padded as for ConvSameNhwc, g h × width × cout, out k × k × cin ×
// cout (overwritten). Each value is an FMA chain over the pixels in row-major
// order from +0. cout a multiple of kLanes, or cout == 1 with cin a multiple
// of kLanes; other shapes are refused (returns false, writes nothing).
bool ConvWeightGradNhwc(const float* in, int64_t h, int64_t width, int64_t cin,
                        const float* g, int64_t k, int64_t cout, float* out,
                        Isa isa = Isa::kBest);

// The code ReluMaxPool2x2 records for a pooled value with no gradient.
inline constexpr uint8_t kPoolNoGradient = 255;

// 2×2 max pooling of relu(z), stride 2: z is h × w pixels of `channels`
// floats (NHWC), pooled[py·pooled_row + px·channels + c] for py < h/2, px <
// w/2 the max over the window of max(z, 0) (std::max(z, 0.0f): a NaN z stays
// NaN), scanned in (dy, dx) order with the rule "take v if v > best or v is
// NaN" from best = −∞ (ties keep the first position, like at::max_pool2d).
// With `codes` (h/2 × w/2 × channels bytes) non-null, also where each max came
// from: dy·2 + dx, or kPoolNoGradient when the max is not > 0 and not NaN
// (ReLU passes no gradient). Exact (no rounding): every path gives the same
// bytes. channels a multiple of kLanes, h and w even and >= 2; other shapes are
// refused (returns false, writes nothing).
bool ReluMaxPool2x2(const float* z, int64_t h, int64_t w, int64_t channels,
                    float* pooled, int64_t pooled_row, uint8_t* codes,
                    Isa isa = Isa::kBest);

}  // namespace proxflow::core::kernels

#endif  // PROXFLOW_CORE_KERNELS_ROW_KERNELS_H_
