// The AVX-512 path of the forward convolution (row_kernels.h's contract).
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/kernels/conv_avx2_inl.h"
#include "core/kernels/row_kernels.h"

// This file is compiled with -ffp-contract=off (core/CMakeLists.txt): every
// fused multiply-add below is written out, none is left to the compiler.

namespace proxflow::core::kernels::internal {
namespace {

// ---- AVX-512 F: the same chains, 2 × kLanes outputs per vector. ----------
//
// The forward convolution of the trunk's shapes (row_kernels.cc:
// UseAvx512Conv); the others, and the odd pixel a row of odd width leaves, run
// the AVX2 code (conv_avx2_inl.h).
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

}  // namespace

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
#undef PROXFLOW_AVX2
#undef PROXFLOW_AVX2_INLINE
#undef PROXFLOW_AVX2_LAMBDA

}  // namespace proxflow::core::kernels::internal
