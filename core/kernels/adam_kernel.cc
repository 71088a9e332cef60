#include "core/kernels/adam_kernel.h"

#include <immintrin.h>

#include <cmath>

// Compiled with -ffp-contract=off (core/CMakeLists.txt: proxflow_kernels):
// every fused multiply-add below is written out, none is left to the
// compiler.

namespace proxflow::core::kernels {
namespace {

inline void UpdateOne(float* p, const float* g, float* m, float* v,
                      const AdamScalars& s) {
  const float mi = std::fma(*g, s.one_minus_beta1, *m * s.beta1);
  const float vi = std::fma(s.one_minus_beta2 * *g, *g, *v * s.beta2);
  const float d = std::sqrt(vi) / s.root_correction2 + s.eps;
  *m = mi;
  *v = vi;
  *p = *p + s.minus_step * mi / d;
}

__attribute__((target("avx2,fma"))) void AdamAvx2(float* p, const float* g,
                                                  float* m, float* v, int64_t n,
                                                  const AdamScalars& s) {
  const __m256 beta1 = _mm256_set1_ps(s.beta1);
  const __m256 one_minus_beta1 = _mm256_set1_ps(s.one_minus_beta1);
  const __m256 beta2 = _mm256_set1_ps(s.beta2);
  const __m256 one_minus_beta2 = _mm256_set1_ps(s.one_minus_beta2);
  const __m256 root = _mm256_set1_ps(s.root_correction2);
  const __m256 eps = _mm256_set1_ps(s.eps);
  const __m256 step = _mm256_set1_ps(s.minus_step);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m256 gi = _mm256_loadu_ps(g + i);
    const __m256 mi = _mm256_fmadd_ps(
        gi, one_minus_beta1, _mm256_mul_ps(_mm256_loadu_ps(m + i), beta1));
    const __m256 vi =
        _mm256_fmadd_ps(_mm256_mul_ps(one_minus_beta2, gi), gi,
                        _mm256_mul_ps(_mm256_loadu_ps(v + i), beta2));
    const __m256 d =
        _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), root), eps);
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(p + i,
                     _mm256_add_ps(_mm256_loadu_ps(p + i),
                                   _mm256_div_ps(_mm256_mul_ps(step, mi), d)));
  }
  for (; i < n; ++i) UpdateOne(p + i, g + i, m + i, v + i, s);
}

}  // namespace

void AdamUpdate(float* p, const float* g, float* m, float* v, int64_t n,
                const AdamScalars& s, Isa isa) {
  if (isa != Isa::kPortable && IsaSupported(Isa::kAvx2)) {
    AdamAvx2(p, g, m, v, n, s);
    return;
  }
  for (int64_t i = 0; i < n; ++i) UpdateOne(p + i, g + i, m + i, v + i, s);
}

}  // namespace proxflow::core::kernels
