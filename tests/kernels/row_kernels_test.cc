// The batch-invariant kernels: each value is the documented FMA chain (against
// a double-precision reference, and bit for bit between the AVX2 and portable
// paths), and a row's values never depend on the rows computed with it.
#include "core/kernels/row_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>
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

// ReluMaxPool2x2's definition, literally, for one (py, px, c).
void PoolOne(const std::vector<float>& z, int64_t w, int64_t channels,
             int64_t py, int64_t px, int64_t c, float* value, uint8_t* code) {
  float best = -INFINITY;
  int at = 0;
  for (int d = 0; d < 4; ++d) {
    const float v = std::max(
        z[((2 * py + d / 2) * w + 2 * px + d % 2) * channels + c], 0.0f);
    if (v > best || std::isnan(v)) {
      best = v;
      at = d;
    }
  }
  *value = best;
  *code = best > 0.0f || std::isnan(best) ? static_cast<uint8_t>(at)
                                          : kPoolNoGradient;
}

TEST(ReluMaxPool2x2, EqualsTheDefinitionOnEveryPathWithTiesZerosAndNaNs) {
  const std::vector<Isa> isas = [] {
    std::vector<Isa> v = VectorIsas();
    v.push_back(Isa::kPortable);
    return v;
  }();
  for (const auto& [h, w, channels] :
       std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {28, 28, 8}, {14, 14, 8}, {2, 6, 16}}) {
    std::vector<float> z = Random(h * w * channels, 11);
    // Ties, signed zeros and NaNs at fixed places: window 0 all equal, a
    // window of zeros and −0s, NaN first / last / twice in a window.
    for (int64_t c = 0; c < channels; ++c) {
      z[(0 * w + 0) * channels + c] = z[(0 * w + 1) * channels + c] = 0.5f;
      z[(1 * w + 0) * channels + c] = z[(1 * w + 1) * channels + c] = 0.5f;
      z[(0 * w + 2) * channels + c] = -0.0f;
      z[(0 * w + 3) * channels + c] = 0.0f;
      z[(1 * w + 2) * channels + c] = -1.0f;
      z[(1 * w + 3) * channels + c] = -0.0f;
    }
    z[(0 * w + 4) * channels + 1] = NAN;
    z[(1 * w + 5) * channels + 2] = NAN;
    z[(0 * w + 5) * channels + 3] = NAN;
    z[(1 * w + 4) * channels + 3] = NAN;
    const int64_t ph = h / 2, pw = w / 2;
    const int64_t row = pw * channels + 5;  // pooled rows with padding
    for (const Isa isa : isas) {
      std::vector<float> pooled(ph * row, 7.0f);
      std::vector<uint8_t> codes(ph * pw * channels, 99);
      ASSERT_TRUE(ReluMaxPool2x2(z.data(), h, w, channels, pooled.data(), row,
                                 codes.data(), isa));
      int64_t no_gradient = 0, nans = 0;
      for (int64_t py = 0; py < ph; ++py) {
        for (int64_t px = 0; px < pw; ++px) {
          for (int64_t c = 0; c < channels; ++c) {
            float value;
            uint8_t code;
            PoolOne(z, w, channels, py, px, c, &value, &code);
            const float got = pooled[py * row + px * channels + c];
            const int64_t i = (py * pw + px) * channels + c;
            ASSERT_EQ(std::bit_cast<uint32_t>(got),
                      std::bit_cast<uint32_t>(value))
                << h << "x" << w << " (" << py << "," << px << "," << c << ")";
            ASSERT_EQ(codes[i], code) << py << "," << px << "," << c;
            no_gradient += code == kPoolNoGradient;
            nans += std::isnan(value);
          }
        }
      }
      // The fixed places are what they were meant to be.
      EXPECT_EQ(codes[0], 0);                       // a tie keeps the first
      EXPECT_EQ(codes[channels], kPoolNoGradient);  // zeros: no gradient
      EXPECT_EQ(codes[2 * channels + 1], 0);        // NaN first
      EXPECT_EQ(codes[2 * channels + 2], 3);        // NaN last
      EXPECT_EQ(codes[2 * channels + 3], 2);        // the later NaN
      EXPECT_GE(nans, 3);
      EXPECT_GE(no_gradient, channels);
      // Without codes: the same values.
      std::vector<float> plain(ph * row, 7.0f);
      ASSERT_TRUE(ReluMaxPool2x2(z.data(), h, w, channels, plain.data(), row,
                                 nullptr, isa));
      for (int64_t py = 0; py < ph; ++py)
        for (int64_t j = 0; j < pw * channels; ++j)
          ASSERT_EQ(std::bit_cast<uint32_t>(plain[py * row + j]),
                    std::bit_cast<uint32_t>(pooled[py * row + j]));
    }
  }
}

TEST(ReluMaxPool2x2, RefusesOddSidesAndChannelsOffTheLanes) {
  std::vector<float> buffer(4096);
  EXPECT_FALSE(
      ReluMaxPool2x2(buffer.data(), 3, 4, 8, buffer.data(), 16, nullptr));
  EXPECT_FALSE(
      ReluMaxPool2x2(buffer.data(), 4, 4, 4, buffer.data(), 16, nullptr));
  EXPECT_FALSE(
      ReluMaxPool2x2(buffer.data(), 0, 4, 8, buffer.data(), 16, nullptr));
}

// PROXFLOW_KERNEL_ISA caps kBest (ctest runs this binary under each cap).
TEST(IsaCap, BestIsaIsTheCpusCappedByTheEnvironment) {
  const char* cap = std::getenv("PROXFLOW_KERNEL_ISA");
  const std::string name = cap == nullptr ? "" : cap;
  if (name == "portable") {
    EXPECT_EQ(BestIsa(), Isa::kPortable);
    EXPECT_FALSE(IsaSupported(Isa::kAvx2));
    EXPECT_FALSE(IsaSupported(Isa::kAvx512));
  } else if (name == "avx2") {
    EXPECT_NE(BestIsa(), Isa::kAvx512);
    EXPECT_FALSE(IsaSupported(Isa::kAvx512));
  }
  // Whatever the cap, kBest is the widest supported one and names itself.
  const Isa best = BestIsa();
  EXPECT_TRUE(IsaSupported(best));
  if (best == Isa::kPortable) {
    EXPECT_FALSE(IsaSupported(Isa::kAvx2));
  }
  if (best == Isa::kAvx2) {
    EXPECT_FALSE(IsaSupported(Isa::kAvx512));
  }
  EXPECT_STREQ(IsaName(Isa::kBest), IsaName(best));
  EXPECT_STREQ(IsaName(Isa::kAvx2), "avx2");
}

}  // namespace
}  // namespace proxflow::core::kernels
