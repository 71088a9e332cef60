#include "core/kernels/row_kernels.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

// This file is compiled with -ffp-contract=off (core/CMakeLists.txt): every
// fused multiply-add below is written out, none is left to the compiler.

namespace proxflow::core::kernels {
namespace {

bool CpuHasAvx2Fma() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
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
    return __builtin_cpu_supports("avx512f") && CpuHasAvx2Fma();
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

// The pairwise sum of the cout == 1 convolution's lane chains.
inline float PairwiseSum(const float* c) {
  return ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
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

// ---- AVX2 + FMA: the same chains, kLanes outputs per vector. -------------

#define PROXFLOW_AVX2 __attribute__((target("avx2,fma")))
#define PROXFLOW_AVX2_INLINE \
  __attribute__((target("avx2,fma"), always_inline)) inline
// A lambda's body is compiled for its own target, not its enclosing function's.
#define PROXFLOW_AVX2_LAMBDA __attribute__((target("avx2,fma"), always_inline))

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

PROXFLOW_AVX2 void DenseAvx2(const float* in, int64_t n, int64_t in_stride,
                             const MatrixView& m, const float* bias, float* out,
                             int64_t out_stride) {
  const int64_t cols = LaneStride(m.cols);
  // Column strips outermost: a strip of m (rows × 16 floats) stays in cache
  // while every row passes over it.
  for (int64_t j = 0; j < cols; j += 2 * kLanes) {
    const bool two = j + 2 * kLanes <= cols;
    int64_t b = 0;
    for (; b + 4 <= n; b += 4) {
      const float* a = in + b * in_stride;
      float* o = out + b * out_stride;
      if (two) {
        DenseBlockAvx2<4, 2>(a, in_stride, m, bias, j, o, out_stride);
      } else {
        DenseBlockAvx2<4, 1>(a, in_stride, m, bias, j, o, out_stride);
      }
    }
    for (; b < n; ++b) {
      const float* a = in + b * in_stride;
      float* o = out + b * out_stride;
      if (two) {
        DenseBlockAvx2<1, 2>(a, in_stride, m, bias, j, o, out_stride);
      } else {
        DenseBlockAvx2<1, 1>(a, in_stride, m, bias, j, o, out_stride);
      }
    }
  }
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

struct Items {
  std::vector<int64_t> in_off, out_off;
  void Add(int64_t in, int64_t out) {
    in_off.push_back(in);
    out_off.push_back(out);
  }
  int64_t size() const { return static_cast<int64_t>(in_off.size()); }
};

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

#undef PROXFLOW_AVX2
#undef PROXFLOW_AVX2_INLINE
#undef PROXFLOW_AVX2_LAMBDA

// ---- AVX-512 F: the same chains, 2 × kLanes outputs per vector. ----------
//
// The forward convolution of the trunk's shapes (UseAvx512Conv); the others,
// and the odd pixel a row of odd width leaves, run the AVX2 code above.
// Each lane still holds one value's chain, in its documented order, so the
// bits are those of the AVX2 and portable paths. Lanes are paired: a vector
// holds two outputs' kLanes lanes, either interleaved (lane 2j + e: output e
// of the pair, lane j; filled by a 64-bit broadcast of two adjacent floats)
// or in halves (lanes e·kLanes + j; filled by one 16-float load).

#define PROXFLOW_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define PROXFLOW_AVX512_INLINE \
  __attribute__((target("avx512f,avx2,fma"), always_inline)) inline
// A lambda's body is compiled for its own target, not its enclosing function's.
#define PROXFLOW_AVX512_LAMBDA \
  __attribute__((target("avx512f,avx2,fma"), always_inline))

// The two adjacent floats at p in every 64-bit pair of lanes.
PROXFLOW_AVX512_INLINE __m512 BroadcastPair(const float* p) {
  double pair;
  std::memcpy(&pair, p, sizeof(pair));
  return _mm512_castpd_ps(_mm512_set1_pd(pair));
}

// Interleaved lanes (2j + e) to halves (e·kLanes + j).
PROXFLOW_AVX512_INLINE __m512 Deinterleave(__m512 v) {
  const __m512i order =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  // (permutex2var over v twice: GCC 12's permutexvar_ps passes an undefined
  // vector that -Wmaybe-uninitialized reports.)
  return _mm512_permutex2var_ps(v, order, v);
}

// Every float of `v` (n floats) twice: out[2i] = out[2i+1] = v[i].
void Doubled(const float* v, int64_t n, std::vector<float>& out) {
  out.resize(2 * n);
  for (int64_t i = 0; i < n; ++i) out[2 * i] = out[2 * i + 1] = v[i];
}

// Every kLanes floats of `v` (n, a multiple of kLanes) twice in a row: the
// lanes-in-halves form of v.
void Halves(const float* v, int64_t n, std::vector<float>& out) {
  out.resize(2 * n);
  for (int64_t i = 0; i < n; i += kLanes) {
    std::memcpy(&out[2 * i], v + i, sizeof(float) * kLanes);
    std::memcpy(&out[2 * i + kLanes], v + i, sizeof(float) * kLanes);
  }
}

// P pixel pairs (x … x+2P−1) of output row y, cout == kLanes, interleaved
// lanes: pixel x+2p+e, channel j in lane 2j+e of acc[p]. `rows` is the padded
// input with each image row stored channel-planar ([row][ci][column]), so the
// two pixels of a pair are adjacent for every channel; `taps` the weights
// doubled (Doubled of k × k × cin × kLanes).
template <int P>
PROXFLOW_AVX512_INLINE void ConvPairsAvx512(const float* rows, int64_t pw,
                                            int64_t cin, const float* taps,
                                            int64_t k, int64_t y, int64_t x,
                                            float* out_row) {
  __m512 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = _mm512_setzero_ps();
  for (int64_t ky = 0; ky < k; ++ky) {
    for (int64_t kx = 0; kx < k; ++kx) {
      const float* src = rows + (y + ky) * pw * cin + x + kx;
      const float* tap = taps + (ky * k + kx) * cin * 2 * kLanes;
      for (int64_t ci = 0; ci < cin; ++ci) {
        const __m512 wv = _mm512_loadu_ps(tap + ci * 2 * kLanes);
        for (int p = 0; p < P; ++p) {
          acc[p] =
              _mm512_fmadd_ps(BroadcastPair(src + ci * pw + 2 * p), wv, acc[p]);
        }
      }
    }
  }
  for (int p = 0; p < P; ++p) {
    _mm512_storeu_ps(out_row + (x + 2 * p) * kLanes, Deinterleave(acc[p]));
  }
}

// P pixel pairs of a one-channel output from cin == kLanes, lanes in halves:
// pixel x+2p+e, chain j (channel j) in lane e·kLanes + j of acc[p]; the two
// pixels' channels are one 16-float load. `w2`: Halves of the k × k × kLanes
// weights.
template <int P>
PROXFLOW_AVX512_INLINE void ConvPairsToOneAvx512(const float* window,
                                                 int64_t in_row,
                                                 const float* w2, int64_t k,
                                                 float* out) {
  __m512 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = _mm512_setzero_ps();
  for (int64_t ky = 0; ky < k; ++ky) {
    for (int64_t kx = 0; kx < k; ++kx) {
      const float* pixel = window + ky * in_row + kx * kLanes;
      const __m512 wv = _mm512_loadu_ps(w2 + (ky * k + kx) * 2 * kLanes);
      for (int p = 0; p < P; ++p) {
        acc[p] = _mm512_fmadd_ps(_mm512_loadu_ps(pixel + 2 * p * kLanes), wv,
                                 acc[p]);
      }
    }
  }
  for (int p = 0; p < P; ++p) {
    alignas(64) float chains[2 * kLanes];
    _mm512_store_ps(chains, acc[p]);
    out[2 * p] = PairwiseSum(chains);
    out[2 * p + 1] = PairwiseSum(chains + kLanes);
  }
}

PROXFLOW_DEFINE_FOR_ITEM_BLOCKS(ForItemBlocksAvx512, PROXFLOW_AVX512_INLINE)

PROXFLOW_AVX512 void ConvAvx512(const float* in, int64_t h, int64_t width,
                                int64_t cin, const float* w, int64_t k,
                                int64_t cout, float* out) {
  const int64_t pw = width + k - 1, in_row = pw * cin;
  thread_local std::vector<float> rows, taps;  // per-thread scratch
  if (cout == 1) {                             // cin == kLanes
    Halves(w, k * k * kLanes, taps);
    for (int64_t y = 0; y < h; ++y) {
      // Blocks of pixel pairs; an odd width leaves the last pixel to AVX2.
      ForItemBlocksAvx512(
          width / 2, [&]<int P>(int64_t pair) PROXFLOW_AVX512_LAMBDA {
            const int64_t x0 = 2 * pair;
            ConvPairsToOneAvx512<P>(in + y * in_row + x0 * cin, in_row,
                                    taps.data(), k, out + y * width + x0);
          });
      if (const int64_t x = width - 1; width % 2 == 1) {
        ConvBlockAvx2<1>(in, in_row, width, cin, w, k, 1, y, x, out);
      }
    }
    return;
  }
  // cout == kLanes: the rows channel-planar, the taps doubled.
  const float* planar = in;
  if (cin > 1) {
    rows.resize((h + k - 1) * in_row);
    for (int64_t r = 0; r < h + k - 1; ++r) {
      for (int64_t x = 0; x < pw; ++x) {
        for (int64_t ci = 0; ci < cin; ++ci) {
          rows[(r * cin + ci) * pw + x] = in[r * in_row + x * cin + ci];
        }
      }
    }
    planar = rows.data();
  }
  Doubled(w, k * k * cin * kLanes, taps);
  for (int64_t y = 0; y < h; ++y) {
    float* out_row = out + y * width * kLanes;
    ForItemBlocksAvx512(width / 2, [&]<int P>(
                                       int64_t pair) PROXFLOW_AVX512_LAMBDA {
      ConvPairsAvx512<P>(planar, pw, cin, taps.data(), k, y, 2 * pair, out_row);
    });
    if (const int64_t x = width - 1; width % 2 == 1) {
      ConvBlockAvx2<1>(in, in_row, width, cin, w, k, kLanes, y, x, out);
    }
  }
}

#undef PROXFLOW_AVX512
#undef PROXFLOW_AVX512_INLINE
#undef PROXFLOW_AVX512_LAMBDA
#undef PROXFLOW_DEFINE_FOR_ITEM_BLOCKS

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
    ConvAvx512(in, h, width, cin, w, k, cout, out);
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

}  // namespace proxflow::core::kernels
