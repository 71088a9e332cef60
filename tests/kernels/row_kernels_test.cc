// The batch-invariant kernels: each value is the documented FMA chain (against
// a double-precision reference, and bit for bit between the AVX2 and portable
// paths), and a row's values never depend on the rows computed with it.
#include "core/kernels/row_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace proxflow::core::kernels {
namespace {

std::vector<float> Random(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(gen);
  return v;
}

// A (rows × cols) matrix with lane stride, padding zero.
std::vector<float> Matrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::vector<float> values = Random(rows * cols, seed, 0.3f);
  std::vector<float> m(rows * LaneStride(cols), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      m[r * LaneStride(cols) + c] = values[r * cols + c];
  return m;
}

std::vector<Isa> VectorIsas() {
  std::vector<Isa> isas;
  if (IsaSupported(Isa::kAvx2)) isas.push_back(Isa::kAvx2);
  if (IsaSupported(Isa::kAvx512)) isas.push_back(Isa::kAvx512);
  return isas;
}

struct DenseShape {
  int64_t n, k, j;
};

TEST(DenseRows, EqualsTheFmaChainOnEveryPathAndRowsAreIndependent) {
  if (VectorIsas().empty()) GTEST_SKIP() << "this CPU has no AVX2+FMA";
  for (const DenseShape& s : std::vector<DenseShape>{{1, 1, 1},
                                                     {3, 2, 48},
                                                     {7, 48, 48},
                                                     {13, 49, 17},
                                                     {9, 393, 512},
                                                     {5, 512, 1},
                                                     {4, 6, 784}}) {
    const int64_t cols = LaneStride(s.j);
    const int64_t in_stride = s.k + 3;  // not a lane multiple
    const std::vector<float> in = Random(s.n * in_stride, 1);
    const std::vector<float> m = Matrix(s.k, s.j, 2);
    std::vector<float> bias = Random(cols, 3);
    for (int64_t c = s.j; c < cols; ++c) bias[c] = 0;
    const MatrixView view{m.data(), s.k, s.j, cols};
    for (const bool with_bias : {true, false}) {
      const float* b = with_bias ? bias.data() : nullptr;
      std::vector<float> portable(s.n * cols);
      DenseRows(in.data(), s.n, in_stride, view, b, portable.data(), cols,
                Isa::kPortable);
      // The documented chain, and near the exact value.
      for (int64_t r = 0; r < s.n; ++r) {
        for (int64_t c = 0; c < s.j; ++c) {
          float chain = 0;
          double exact = 0;
          for (int64_t k = 0; k < s.k; ++k) {
            chain = std::fma(in[r * in_stride + k], m[k * cols + c], chain);
            exact += double(in[r * in_stride + k]) * m[k * cols + c];
          }
          if (with_bias) {
            chain += bias[c];
            exact += bias[c];
          }
          ASSERT_EQ(portable[r * cols + c], chain) << r << "," << c;
          ASSERT_NEAR(portable[r * cols + c], exact, 1e-4 * (1 + s.k));
        }
      }
      for (const Isa isa : VectorIsas()) {
        std::vector<float> vector(s.n * cols);
        DenseRows(in.data(), s.n, in_stride, view, b, vector.data(), cols, isa);
        EXPECT_EQ(vector, portable) << "n " << s.n << " k " << s.k << " j "
                                    << s.j << " bias " << with_bias;
        // Each row alone (the 1-row block path) gives its row of the batch.
        for (int64_t r = 0; r < s.n; ++r) {
          std::vector<float> alone(cols);
          DenseRows(in.data() + r * in_stride, 1, in_stride, view, b,
                    alone.data(), cols, isa);
          EXPECT_TRUE(
              std::equal(alone.begin(), alone.end(), vector.begin() + r * cols))
              << "row " << r << " of " << s.n;
        }
      }
    }
  }
}

struct ConvShape {
  int64_t h, w, cin, cout, k;
};

TEST(ConvSameNhwc, EqualsTheDocumentedSumOnEveryPath) {
  for (const ConvShape& s :
       std::vector<ConvShape>{{28, 28, 1, 8, 7},
                              {14, 14, 8, 8, 7},
                              {28, 28, 8, 1, 7},
                              {5, 7, 16, 1, 3},
                              {6, 5, 3, 16, 5},
                              {1, 1, 8, 8, 1},
                              // The AVX-512 pairs' tails:
                              // odd widths, 1..7 pairs
                              // after blocks of 8, odd cin.
                              {3, 31, 8, 8, 3},
                              {2, 19, 1, 8, 5},
                              {4, 13, 3, 8, 5},
                              {3, 29, 8, 1, 7},
                              {2, 1, 8, 1, 3}}) {
    const int64_t ph = s.h + s.k - 1, pw = s.w + s.k - 1;
    std::vector<float> in = Random(ph * pw * s.cin, 4);
    // Zero borders, as callers pad.
    for (int64_t y = 0; y < ph; ++y)
      for (int64_t x = 0; x < pw; ++x)
        if (y < s.k / 2 || y >= s.h + s.k / 2 || x < s.k / 2 ||
            x >= s.w + s.k / 2)
          for (int64_t c = 0; c < s.cin; ++c) in[(y * pw + x) * s.cin + c] = 0;
    const std::vector<float> w = Random(s.k * s.k * s.cin * s.cout, 5, 0.2f);
    std::vector<float> portable(s.h * s.w * s.cout);
    ASSERT_TRUE(ConvSameNhwc(in.data(), s.h, s.w, s.cin, w.data(), s.k, s.cout,
                             portable.data(), Isa::kPortable));
    for (int64_t y = 0; y < s.h; ++y) {
      for (int64_t x = 0; x < s.w; ++x) {
        for (int64_t co = 0; co < s.cout; ++co) {
          double exact = 0;
          for (int64_t ky = 0; ky < s.k; ++ky)
            for (int64_t kx = 0; kx < s.k; ++kx)
              for (int64_t ci = 0; ci < s.cin; ++ci)
                exact += double(in[((y + ky) * pw + x + kx) * s.cin + ci]) *
                         w[((ky * s.k + kx) * s.cin + ci) * s.cout + co];
          ASSERT_NEAR(portable[(y * s.w + x) * s.cout + co], exact, 1e-4)
              << y << "," << x << "," << co;
        }
      }
    }
    for (const Isa isa : VectorIsas()) {
      std::vector<float> vector(s.h * s.w * s.cout);
      ASSERT_TRUE(ConvSameNhwc(in.data(), s.h, s.w, s.cin, w.data(), s.k,
                               s.cout, vector.data(), isa));
      EXPECT_EQ(vector, portable)
          << s.h << "x" << s.w << " " << s.cin << "->" << s.cout << " k" << s.k;
    }
  }
}

TEST(ConvWeightGradNhwc, EqualsThePixelChainOnEveryPath) {
  for (const ConvShape& s : std::vector<ConvShape>{{28, 28, 1, 8, 7},
                                                   {14, 14, 8, 8, 7},
                                                   {28, 28, 8, 1, 7},
                                                   {5, 6, 16, 1, 3},
                                                   {4, 5, 3, 16, 5},
                                                   // The AVX-512 pairs' tails:
                                                   // k·cin odd and past 14,
                                                   // k odd for one output.
                                                   {3, 7, 3, 8, 5},
                                                   {2, 9, 1, 8, 7},
                                                   {3, 5, 8, 8, 3},
                                                   {3, 4, 8, 1, 5}}) {
    const int64_t ph = s.h + s.k - 1, pw = s.w + s.k - 1;
    const std::vector<float> in = Random(ph * pw * s.cin, 6);
    const std::vector<float> g = Random(s.h * s.w * s.cout, 7);
    const int64_t n = s.k * s.k * s.cin * s.cout;
    std::vector<float> portable(n);
    ASSERT_TRUE(ConvWeightGradNhwc(in.data(), s.h, s.w, s.cin, g.data(), s.k,
                                   s.cout, portable.data(), Isa::kPortable));
    for (int64_t ky = 0; ky < s.k; ++ky) {
      for (int64_t kx = 0; kx < s.k; ++kx) {
        for (int64_t ci = 0; ci < s.cin; ++ci) {
          for (int64_t co = 0; co < s.cout; ++co) {
            float chain = 0;
            for (int64_t y = 0; y < s.h; ++y)
              for (int64_t x = 0; x < s.w; ++x)
                chain = std::fma(in[((y + ky) * pw + x + kx) * s.cin + ci],
                                 g[(y * s.w + x) * s.cout + co], chain);
            ASSERT_EQ(portable[((ky * s.k + kx) * s.cin + ci) * s.cout + co],
                      chain);
          }
        }
      }
    }
    for (const Isa isa : VectorIsas()) {
      std::vector<float> vector(n);
      ASSERT_TRUE(ConvWeightGradNhwc(in.data(), s.h, s.w, s.cin, g.data(), s.k,
                                     s.cout, vector.data(), isa));
      EXPECT_EQ(vector, portable)
          << s.h << "x" << s.w << " " << s.cin << "->" << s.cout << " k" << s.k;
    }
  }
  std::vector<float> buffer(4096);
  EXPECT_FALSE(ConvWeightGradNhwc(buffer.data(), 2, 2, 3, buffer.data(), 3, 1,
                                  buffer.data()));
}

TEST(ConvSameNhwc, RefusesShapesWithoutALaneLayout) {
  std::vector<float> buffer(4096);
  // cout neither a lane multiple nor 1; cout 1 over cin not a lane multiple;
  // an even kernel.
  EXPECT_FALSE(
      ConvSameNhwc(buffer.data(), 2, 2, 8, buffer.data(), 3, 4, buffer.data()));
  EXPECT_FALSE(
      ConvSameNhwc(buffer.data(), 2, 2, 3, buffer.data(), 3, 1, buffer.data()));
  EXPECT_FALSE(
      ConvSameNhwc(buffer.data(), 2, 2, 8, buffer.data(), 2, 8, buffer.data()));
}

}  // namespace
}  // namespace proxflow::core::kernels
