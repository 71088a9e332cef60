#include "core/kernels/row_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/kernels/conv_avx2_inl.h"

// This file is compiled with -ffp-contract=off (core/CMakeLists.txt): every
// fused multiply-add below is written out, none is left to the compiler.

namespace proxflow::core::kernels {
namespace {

using internal::ConvBlockAvx2;
using internal::kItemsPerBlock;
using internal::PairwiseSum;

// PROXFLOW_KERNEL_ISA's cap (row_kernels.h: BestIsa): 2 none / avx512, 1
// avx2, 0 portable.
int IsaCap() {
  static const int cap = [] {
    const char* value = std::getenv("PROXFLOW_KERNEL_ISA");
    if (value == nullptr) return 2;
    if (std::strcmp(value, "avx2") == 0) return 1;
    if (std::strcmp(value, "portable") == 0) return 0;
    return 2;
  }();
  return cap;
}

bool CpuHasAvx2Fma() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           IsaCap() >= 1;
  }();
  return has;
}

// Dense layers have no AVX-512 variant: kAvx512 runs the AVX2 one (the same
// bits).
bool UseAvx2(Isa isa) {
  return isa == Isa::kAvx2 || isa == Isa::kAvx512 ||
         (isa == Isa::kBest && CpuHasAvx2Fma());
}

bool CpuHasAvx512() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && CpuHasAvx2Fma() &&
           IsaCap() >= 2;
  }();
  return has;
}

// The forward convolution's AVX-512 variant: the trunk's shapes where it
// measured faster than AVX2 (cout == kLanes from cin > 1, cout == 1 from cin
// == kLanes; docs/PERFORMANCE.md). One input channel and the weight gradient
// stay on AVX2.
bool UseAvx512Conv(Isa isa, int64_t cin, int64_t cout) {
  const bool shape =
      (cout == kLanes && cin > 1) || (cout == 1 && cin == kLanes);
  return shape &&
         (isa == Isa::kAvx512 || (isa == Isa::kBest && CpuHasAvx512()));
}

// The shapes both convolution kernels take: an odd kernel and lanes over the
// output channels (cout a multiple of kLanes) or, for one output channel,
// over the input channels.
bool LaneLayout(int64_t h, int64_t width, int64_t cin, int64_t k,
                int64_t cout) {
  const bool lanes_out = cout > 0 && cout % kLanes == 0;
  const bool lanes_in = cout == 1 && cin > 0 && cin % kLanes == 0;
  return k >= 1 && k % 2 == 1 && h >= 1 && width >= 1 && cin >= 1 &&
         (lanes_out || lanes_in);
}

// ---- Portable: the definitions in the header, literally. -----------------

void DensePortable(const float* in, int64_t n, int64_t in_stride,
                   const MatrixView& m, const float* bias, float* out,
                   int64_t out_stride) {
  const int64_t cols = LaneStride(m.cols);
  for (int64_t b = 0; b < n; ++b) {
    const float* a = in + b * in_stride;
    float* o = out + b * out_stride;
    for (int64_t j = 0; j < cols; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < m.rows; ++k) {
        acc = std::fma(a[k], m.data[k * m.stride + j], acc);
      }
      o[j] = bias != nullptr ? acc + bias[j] : acc;
    }
  }
}

void ConvPortable(const float* in, int64_t h, int64_t width, int64_t cin,
                  const float* w, int64_t k, int64_t cout, float* out) {
  const int64_t in_row = (width + k - 1) * cin;
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      const float* window = in + y * in_row + x * cin;
      float* o = out + (y * width + x) * cout;
      if (cout == 1) {
        float chain[kLanes] = {};
        for (int64_t ky = 0; ky < k; ++ky) {
          for (int64_t kx = 0; kx < k; ++kx) {
            const float* pixel = window + ky * in_row + kx * cin;
            const float* tap = w + (ky * k + kx) * cin;
            for (int64_t ci = 0; ci < cin; ++ci) {
              chain[ci % kLanes] =
                  std::fma(pixel[ci], tap[ci], chain[ci % kLanes]);
            }
          }
        }
        o[0] = PairwiseSum(chain);
        continue;
      }
      for (int64_t co = 0; co < cout; ++co) {
        float acc = 0.0f;
        for (int64_t ky = 0; ky < k; ++ky) {
          for (int64_t kx = 0; kx < k; ++kx) {
            const float* pixel = window + ky * in_row + kx * cin;
            const float* tap = w + (ky * k + kx) * cin * cout + co;
            for (int64_t ci = 0; ci < cin; ++ci) {
              acc = std::fma(pixel[ci], tap[ci * cout], acc);
            }
          }
        }
        o[co] = acc;
      }
    }
  }
}

void WeightGradPortable(const float* in, int64_t h, int64_t width, int64_t cin,
                        const float* g, int64_t k, int64_t cout, float* out) {
  const int64_t in_row = (width + k - 1) * cin;
  for (int64_t ky = 0; ky < k; ++ky) {
    for (int64_t kx = 0; kx < k; ++kx) {
      for (int64_t ci = 0; ci < cin; ++ci) {
        for (int64_t co = 0; co < cout; ++co) {
          float acc = 0.0f;
          for (int64_t y = 0; y < h; ++y) {
            for (int64_t x = 0; x < width; ++x) {
              acc = std::fma(in[(y + ky) * in_row + (x + kx) * cin + ci],
                             g[(y * width + x) * cout + co], acc);
            }
          }
          out[((ky * k + kx) * cin + ci) * cout + co] = acc;
        }
      }
    }
  }
}

void ReluPoolPortable(const float* z, int64_t h, int64_t w, int64_t channels,
                      float* pooled, int64_t pooled_row, uint8_t* codes) {
  for (int64_t py = 0; py < h / 2; ++py) {
    for (int64_t px = 0; px < w / 2; ++px) {
      for (int64_t c = 0; c < channels; ++c) {
        float best = -INFINITY;
        int code = 0;
        for (int d = 0; d < 4; ++d) {
          const int64_t y = 2 * py + d / 2;
          const int64_t x = 2 * px + d % 2;
          const float v = std::max(z[(y * w + x) * channels + c], 0.0f);
          if (v > best || std::isnan(v)) {
            best = v;
            code = d;
          }
        }
        pooled[py * pooled_row + px * channels + c] = best;
        if (codes != nullptr) {
          codes[(py * (w / 2) + px) * channels + c] =
              best > 0.0f || std::isnan(best) ? static_cast<uint8_t>(code)
                                              : kPoolNoGradient;
        }
      }
    }
  }
}

// ---- AVX2 + FMA: the same chains, kLanes outputs per vector. -------------

// R rows × C vectors of columns starting at column j.
template <int R, int C>
PROXFLOW_AVX2_INLINE void DenseBlockAvx2(const float* in, int64_t in_stride,
                                         const MatrixView& m, const float* bias,
                                         int64_t j, float* out,
                                         int64_t out_stride) {
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  const float* column = m.data + j;
  for (int64_t k = 0; k < m.rows; ++k) {
    __m256 wv[C];
    for (int c = 0; c < C; ++c)
      wv[c] = _mm256_loadu_ps(column + k * m.stride + c * kLanes);
    for (int r = 0; r < R; ++r) {
      const __m256 a = _mm256_broadcast_ss(in + r * in_stride + k);
      for (int c = 0; c < C; ++c)
        acc[r][c] = _mm256_fmadd_ps(a, wv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      __m256 v = acc[r][c];
      if (bias != nullptr)
        v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j + c * kLanes));
      _mm256_storeu_ps(out + r * out_stride + j + c * kLanes, v);
    }
  }
}

// Rows b < n of one strip of C vectors of columns from j: blocks of R rows,
// then the rest one row at a time.
template <int R, int C>
PROXFLOW_AVX2_INLINE void DenseStripAvx2(const float* in, int64_t n,
                                         int64_t in_stride, const MatrixView& m,
                                         const float* bias, int64_t j,
                                         float* out, int64_t out_stride) {
  int64_t b = 0;
  for (; b + R <= n; b += R) {
    DenseBlockAvx2<R, C>(in + b * in_stride, in_stride, m, bias, j,
                         out + b * out_stride, out_stride);
  }
  for (; b < n; ++b) {
    DenseBlockAvx2<1, C>(in + b * in_stride, in_stride, m, bias, j,
                         out + b * out_stride, out_stride);
  }
}

PROXFLOW_AVX2 void DenseAvx2(const float* in, int64_t n, int64_t in_stride,
                             const MatrixView& m, const float* bias, float* out,
                             int64_t out_stride) {
  // 4 × 2 vectors: 8 accumulators cover the FMA latency; 6 × 2 and 4 × 3
  // measured no faster (docs/PERFORMANCE.md).
  constexpr int kR = 4;
  constexpr int kC = 2;
  const int64_t cols = LaneStride(m.cols);
  // Column strips outermost: a strip of m (rows × kC vectors) stays in cache
  // while every row passes over it.
  int64_t j = 0;
  for (; j + kC * kLanes <= cols; j += kC * kLanes) {
    DenseStripAvx2<kR, kC>(in, n, in_stride, m, bias, j, out, out_stride);
  }
  for (; j < cols; j += kLanes) {
    DenseStripAvx2<kR, 1>(in, n, in_stride, m, bias, j, out, out_stride);
  }
}

PROXFLOW_AVX2 void ConvAvx2(const float* in, int64_t h, int64_t width,
                            int64_t cin, const float* w, int64_t k,
                            int64_t cout, float* out) {
  const int64_t in_row = (width + k - 1) * cin;
  // Blocks of 8 pixels: 8 independent FMA chains cover the FMA latency; the
  // rest of a row in blocks of 4, 2 and 1.
  for (int64_t y = 0; y < h; ++y) {
    int64_t x = 0;
    for (; x + 8 <= width; x += 8) {
      ConvBlockAvx2<8>(in, in_row, width, cin, w, k, cout, y, x, out);
    }
    if (x + 4 <= width) {
      ConvBlockAvx2<4>(in, in_row, width, cin, w, k, cout, y, x, out);
      x += 4;
    }
    if (x + 2 <= width) {
      ConvBlockAvx2<2>(in, in_row, width, cin, w, k, cout, y, x, out);
      x += 2;
    }
    if (x < width)
      ConvBlockAvx2<1>(in, in_row, width, cin, w, k, cout, y, x, out);
  }
}

// Weight-gradient items (conv_avx2_inl.h: kItemsPerBlock).
struct Items {
  std::vector<int64_t> in_off, out_off;
  void Add(int64_t in, int64_t out) {
    in_off.push_back(in);
    out_off.push_back(out);
  }
  int64_t size() const { return static_cast<int64_t>(in_off.size()); }
};

PROXFLOW_DEFINE_FOR_ITEM_BLOCKS(ForItemBlocksAvx2, PROXFLOW_AVX2_INLINE)

// R items of kLanes output channels from co (a (ky, kx, ci) tap each): the
// pixel's input value broadcast times g's kLanes channels.
template <int R>
PROXFLOW_AVX2_INLINE void ItemsAvx2(const float* in, int64_t in_row, int64_t h,
                                    int64_t width, int64_t cin, const float* g,
                                    int64_t cout, int64_t co,
                                    const int64_t* in_off,
                                    const int64_t* out_off, float* out) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t y = 0; y < h; ++y) {
    const float* row = in + y * in_row;
    const float* grad = g + y * width * cout + co;
    for (int64_t x = 0; x < width; ++x) {
      const __m256 gv = _mm256_loadu_ps(grad + x * cout);
      const float* pixel = row + x * cin;
      for (int r = 0; r < R; ++r) {
        acc[r] =
            _mm256_fmadd_ps(_mm256_broadcast_ss(pixel + in_off[r]), gv, acc[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(out + out_off[r] + co, acc[r]);
  }
}

// The same for a one-channel g: an item is kLanes input channels of one tap,
// g's value broadcast.
template <int R>
PROXFLOW_AVX2_INLINE void ItemsToOneAvx2(const float* in, int64_t in_row,
                                         int64_t h, int64_t width, int64_t cin,
                                         const float* g, const int64_t* in_off,
                                         const int64_t* out_off, float* out) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t y = 0; y < h; ++y) {
    const float* row = in + y * in_row;
    const float* grad = g + y * width;
    for (int64_t x = 0; x < width; ++x) {
      const __m256 gv = _mm256_broadcast_ss(grad + x);
      const float* pixel = row + x * cin;
      for (int r = 0; r < R; ++r) {
        acc[r] =
            _mm256_fmadd_ps(_mm256_loadu_ps(pixel + in_off[r]), gv, acc[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r) _mm256_storeu_ps(out + out_off[r], acc[r]);
}

// Runs `items` on the AVX2 path: lanes over the output channels (cout a
// multiple of kLanes), or over the input channels for cout == 1.
PROXFLOW_AVX2_INLINE void ItemsRunAvx2(const Items& items, const float* in,
                                       int64_t in_row, int64_t h, int64_t width,
                                       int64_t cin, const float* g,
                                       int64_t cout, float* out) {
  const int64_t* in_off = items.in_off.data();
  const int64_t* out_off = items.out_off.data();
  const int64_t n = static_cast<int64_t>(items.in_off.size());
  if (cout == 1) {
    ForItemBlocksAvx2(n, [&]<int R>(int64_t i) PROXFLOW_AVX2_LAMBDA {
      ItemsToOneAvx2<R>(in, in_row, h, width, cin, g, in_off + i, out_off + i,
                        out);
    });
    return;
  }
  for (int64_t co = 0; co < cout; co += kLanes) {
    ForItemBlocksAvx2(n, [&]<int R>(int64_t i) PROXFLOW_AVX2_LAMBDA {
      ItemsAvx2<R>(in, in_row, h, width, cin, g, cout, co, in_off + i,
                   out_off + i, out);
    });
  }
}

PROXFLOW_AVX2 void WeightGradAvx2(const float* in, int64_t h, int64_t width,
                                  int64_t cin, const float* g, int64_t k,
                                  int64_t cout, float* out) {
  const int64_t in_row = (width + k - 1) * cin;
  Items items;
  for (int64_t ky = 0; ky < k; ++ky) {
    for (int64_t kx = 0; kx < k; ++kx) {
      const int64_t tap = ky * k + kx;
      if (cout == 1) {
        for (int64_t ci = 0; ci < cin; ci += kLanes) {
          items.Add(ky * in_row + kx * cin + ci, tap * cin + ci);
        }
      } else {
        for (int64_t ci = 0; ci < cin; ++ci) {
          items.Add(ky * in_row + kx * cin + ci, (tap * cin + ci) * cout);
        }
      }
    }
  }
  ItemsRunAvx2(items, in, in_row, h, width, cin, g, cout, out);
}

// ReluPoolPortable's comparisons on kLanes channels at once.
// _mm256_max_ps(0, z) is std::max(z, 0.0f) bit for bit: both return z when z
// is NaN or compares equal to 0 (−0 stays −0).
PROXFLOW_AVX2 void ReluPoolAvx2(const float* z, int64_t h, int64_t w,
                                int64_t channels, float* pooled,
                                int64_t pooled_row, uint8_t* codes) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
  for (int64_t py = 0; py < h / 2; ++py) {
    for (int64_t px = 0; px < w / 2; ++px) {
      for (int64_t c = 0; c < channels; c += kLanes) {
        __m256 best = minus_inf;
        __m256 code = zero;  // the window position, as a float
        for (int d = 0; d < 4; ++d) {
          const int64_t y = 2 * py + d / 2;
          const int64_t x = 2 * px + d % 2;
          const __m256 v = _mm256_max_ps(
              zero, _mm256_loadu_ps(z + (y * w + x) * channels + c));
          const __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ),
                                           _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
          best = _mm256_blendv_ps(best, v, take);
          code = _mm256_blendv_ps(code, _mm256_set1_ps(static_cast<float>(d)),
                                  take);
        }
        _mm256_storeu_ps(pooled + py * pooled_row + px * channels + c, best);
        if (codes != nullptr) {
          const __m256 passes =
              _mm256_or_ps(_mm256_cmp_ps(best, zero, _CMP_GT_OQ),
                           _mm256_cmp_ps(best, best, _CMP_UNORD_Q));
          code = _mm256_blendv_ps(
              _mm256_set1_ps(static_cast<float>(kPoolNoGradient)), code,
              passes);
          alignas(32) int32_t lanes[kLanes];
          _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                             _mm256_cvttps_epi32(code));
          uint8_t* out = codes + (py * (w / 2) + px) * channels + c;
          for (int64_t l = 0; l < kLanes; ++l) {
            out[l] = static_cast<uint8_t>(lanes[l]);
          }
        }
      }
    }
  }
}

// The AVX-512 forward convolution: row_kernels_avx512.cc.

#undef PROXFLOW_DEFINE_FOR_ITEM_BLOCKS
#undef PROXFLOW_AVX2
#undef PROXFLOW_AVX2_INLINE
#undef PROXFLOW_AVX2_LAMBDA

}  // namespace

bool IsaSupported(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return CpuHasAvx512();
    case Isa::kAvx2:
      return CpuHasAvx2Fma();
    case Isa::kBest:
    case Isa::kPortable:
      return true;
  }
  return false;
}

Isa BestIsa() {
  return CpuHasAvx512()    ? Isa::kAvx512
         : CpuHasAvx2Fma() ? Isa::kAvx2
                           : Isa::kPortable;
}

const char* IsaName(Isa isa) {
  switch (isa == Isa::kBest ? BestIsa() : isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    default:
      return "portable";
  }
}

void DenseRows(const float* in, int64_t n, int64_t in_stride,
               const MatrixView& m, const float* bias, float* out,
               int64_t out_stride, Isa isa) {
  if (UseAvx2(isa)) {
    DenseAvx2(in, n, in_stride, m, bias, out, out_stride);
  } else {
    DensePortable(in, n, in_stride, m, bias, out, out_stride);
  }
}

bool ConvSameNhwc(const float* in, int64_t h, int64_t width, int64_t cin,
                  const float* w, int64_t k, int64_t cout, float* out,
                  Isa isa) {
  if (!LaneLayout(h, width, cin, k, cout)) return false;
  if (UseAvx512Conv(isa, cin, cout)) {
    internal::ConvAvx512(in, h, width, cin, w, k, cout, out);
  } else if (UseAvx2(isa)) {
    ConvAvx2(in, h, width, cin, w, k, cout, out);
  } else {
    ConvPortable(in, h, width, cin, w, k, cout, out);
  }
  return true;
}

bool ConvWeightGradNhwc(const float* in, int64_t h, int64_t width, int64_t cin,
                        const float* g, int64_t k, int64_t cout, float* out,
                        Isa isa) {
  if (!LaneLayout(h, width, cin, k, cout)) return false;
  if (UseAvx2(isa)) {  // AVX-512 measured no faster (docs/PERFORMANCE.md)
    WeightGradAvx2(in, h, width, cin, g, k, cout, out);
  } else {
    WeightGradPortable(in, h, width, cin, g, k, cout, out);
  }
  return true;
}

bool ReluMaxPool2x2(const float* z, int64_t h, int64_t w, int64_t channels,
                    float* pooled, int64_t pooled_row, uint8_t* codes,
                    Isa isa) {
  if (h < 2 || w < 2 || h % 2 != 0 || w % 2 != 0 || channels < kLanes ||
      channels % kLanes != 0) {
    return false;
  }
  if (UseAvx2(isa)) {
    ReluPoolAvx2(z, h, w, channels, pooled, pooled_row, codes);
  } else {
    ReluPoolPortable(z, h, w, channels, pooled, pooled_row, codes);
  }
  return true;
}

}  // namespace proxflow::core::kernels
