// Internal to core/kernels (row_kernels.cc and row_kernels_avx512.cc): the
// AVX2 forward-convolution blocks both instruction-set paths run (AVX-512
// leaves a row's odd last pixel to them), the block dispatcher both define
// for their own target, and the AVX-512 entry point. Every function keeps the
// chains documented in row_kernels.h. Include only from files compiled with
// -ffp-contract=off (core/CMakeLists.txt: proxflow_kernels).
#ifndef PROXFLOW_CORE_KERNELS_CONV_AVX2_INL_H_
#define PROXFLOW_CORE_KERNELS_CONV_AVX2_INL_H_

#include <immintrin.h>

#include <cstdint>

#include "core/kernels/row_kernels.h"

#define PROXFLOW_AVX2 __attribute__((target("avx2,fma")))
#define PROXFLOW_AVX2_INLINE \
  __attribute__((target("avx2,fma"), always_inline)) inline
// A lambda's body is compiled for its own target, not its enclosing function's.
#define PROXFLOW_AVX2_LAMBDA __attribute__((target("avx2,fma"), always_inline))

namespace proxflow::core::kernels::internal {

// The pairwise sum of the cout == 1 convolution's lane chains.
inline float PairwiseSum(const float* c) {
  return ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
}

// P adjacent output pixels of one row, kLanes output channels from `co`.
// kCin: the input channel count when known at compile time (1: the trunk's
// first convolution, whose inner loop then disappears), else 0.
template <int P, int kCin = 0>
PROXFLOW_AVX2_INLINE void ConvPixelsAvx2(const float* window, int64_t in_row,
                                         int64_t runtime_cin, const float* w,
                                         int64_t k, int64_t cout, int64_t co,
                                         float* out) {
  const int64_t cin = kCin > 0 ? kCin : runtime_cin;
  __m256 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = _mm256_setzero_ps();
  for (int64_t ky = 0; ky < k; ++ky) {
    for (int64_t kx = 0; kx < k; ++kx) {
      const float* pixel = window + ky * in_row + kx * cin;
      const float* tap = w + (ky * k + kx) * cin * cout + co;
      for (int64_t ci = 0; ci < cin; ++ci) {
        const __m256 wv = _mm256_loadu_ps(tap + ci * cout);
        for (int p = 0; p < P; ++p) {
          acc[p] = _mm256_fmadd_ps(_mm256_broadcast_ss(pixel + p * cin + ci),
                                   wv, acc[p]);
        }
      }
    }
  }
  for (int p = 0; p < P; ++p) _mm256_storeu_ps(out + p * cout + co, acc[p]);
}

// P adjacent output pixels of one row of a one-channel output.
template <int P>
PROXFLOW_AVX2_INLINE void ConvPixelsToOneAvx2(const float* window,
                                              int64_t in_row, int64_t cin,
                                              const float* w, int64_t k,
                                              float* out) {
  __m256 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = _mm256_setzero_ps();
  for (int64_t ky = 0; ky < k; ++ky) {
    for (int64_t kx = 0; kx < k; ++kx) {
      const float* pixel = window + ky * in_row + kx * cin;
      const float* tap = w + (ky * k + kx) * cin;
      for (int64_t g = 0; g < cin; g += kLanes) {
        const __m256 wv = _mm256_loadu_ps(tap + g);
        for (int p = 0; p < P; ++p) {
          acc[p] =
              _mm256_fmadd_ps(_mm256_loadu_ps(pixel + p * cin + g), wv, acc[p]);
        }
      }
    }
  }
  for (int p = 0; p < P; ++p) {
    alignas(32) float chain[kLanes];
    _mm256_store_ps(chain, acc[p]);
    out[p] = PairwiseSum(chain);
  }
}

// The output pixels (y, x … x+P−1), every output channel.
template <int P>
PROXFLOW_AVX2_INLINE void ConvBlockAvx2(const float* in, int64_t in_row,
                                        int64_t width, int64_t cin,
                                        const float* w, int64_t k, int64_t cout,
                                        int64_t y, int64_t x, float* out) {
  const float* window = in + y * in_row + x * cin;
  float* o = out + (y * width + x) * cout;
  if (cout == 1) {
    ConvPixelsToOneAvx2<P>(window, in_row, cin, w, k, o);
    return;
  }
  for (int64_t co = 0; co < cout; co += kLanes) {
    if (cin == 1) {
      ConvPixelsAvx2<P, 1>(window, in_row, cin, w, k, cout, co, o);
    } else {
      ConvPixelsAvx2<P>(window, in_row, cin, w, k, cout, co, o);
    }
  }
}

// The weight gradient runs in blocks of "items": an item is one vector of
// outputs (kLanes output channels of one tap and input channel, or kLanes
// input channels of one tap for a one-channel g) whose chains read the pixel
// at one offset `in_off` and are stored at `out_off`. A block runs up to
// kItemsPerBlock items over the pixels at once: independent chains that
// cover the FMA latency whatever the kernel and channel counts (a 7-tap
// kernel row alone gave blocks of 4 and 3: 50 → 70 GFLOP/s on the trunk's
// shapes, AMD EPYC Zen 4). The forward convolution keeps blocks of adjacent
// pixels: items there cost a load per offset and measured slower.
inline constexpr int kItemsPerBlock = 8;

// Calls f.template operator()<R>(first) for items first … first+R−1, blocks of
// kItemsPerBlock then one of the rest. Defined once per instruction set: the
// lambdas it calls inline only into a function of their own target.
// clang-format off
#define PROXFLOW_DEFINE_FOR_ITEM_BLOCKS(NAME, ATTRIBUTES)         \
  template <typename F>                                           \
  ATTRIBUTES void NAME(int64_t count, F&& f) {                    \
    int64_t i = 0;                                                \
    for (; i + kItemsPerBlock <= count; i += kItemsPerBlock) {    \
      f.template operator()<kItemsPerBlock>(i);                   \
    }                                                             \
    switch (count - i) {                                          \
      case 7: f.template operator()<7>(i); break;                 \
      case 6: f.template operator()<6>(i); break;                 \
      case 5: f.template operator()<5>(i); break;                 \
      case 4: f.template operator()<4>(i); break;                 \
      case 3: f.template operator()<3>(i); break;                 \
      case 2: f.template operator()<2>(i); break;                 \
      case 1: f.template operator()<1>(i); break;                 \
      default: break;                                             \
    }                                                             \
  }
// clang-format on
static_assert(kItemsPerBlock == 8, "the switch covers 1..7");

// The forward convolution on the AVX-512 path (row_kernels.cc decides when:
// UseAvx512Conv); same arguments and bits as ConvSameNhwc.
void ConvAvx512(const float* in, int64_t h, int64_t width, int64_t cin,
                const float* w, int64_t k, int64_t cout, float* out);

}  // namespace proxflow::core::kernels::internal

#endif  // PROXFLOW_CORE_KERNELS_CONV_AVX2_INL_H_
