// RowwiseNet without LibTorch: shape checks, the AVX2 and portable paths give
// the same bits, and a row's values do not depend on the rows evaluated with
// it. (Its values against LibTorch's autograd:
// tests/core/rowwise_field_test.cc.)
#include "core/kernels/rowwise_net.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace proxflow::core::kernels {
namespace {

std::vector<float> Random(int64_t n, std::mt19937& gen, float scale) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(gen);
  return v;
}

// A FlowNet-shaped network: optional trunk, `depth` hidden layers of `width`,
// then 1 (potential) or input_dim outputs.
NetWeights Weights(int64_t input_dim, bool trunk, int depth, int64_t width,
                   Activation activation, bool potential, uint32_t seed) {
  std::mt19937 gen(seed);
  NetWeights w;
  w.input_dim = input_dim;
  w.with_time = true;
  w.activation = activation;
  int64_t in = input_dim + 1;
  if (trunk) {
    w.conv1 = Random(8 * 49, gen, 0.2f);
    w.conv2 = Random(8 * 8 * 49, gen, 0.1f);
    in = 392 + 1;
  }
  for (int l = 0; l <= depth; ++l) {
    NetWeights::Linear layer;
    layer.in = in;
    layer.out = l == depth ? (potential ? 1 : input_dim) : width;
    layer.weight = Random(layer.in * layer.out, gen, 1.0f / std::sqrt(in));
    layer.bias = Random(layer.out, gen, 0.1f);
    in = layer.out;
    w.layers.push_back(std::move(layer));
  }
  return w;
}

struct Case {
  const char* name;
  int64_t input_dim;
  bool trunk;
  int depth;
  int64_t width;
  Activation activation;
  bool potential;
};

class RowwiseNetTest : public ::testing::TestWithParam<Case> {};

TEST_P(RowwiseNetTest, RowsAreIndependentAndEveryPathGivesTheSameBits) {
  const Case& c = GetParam();
  auto net = RowwiseNet::Create(Weights(c.input_dim, c.trunk, c.depth, c.width,
                                        c.activation, c.potential, 7),
                                c.potential);
  ASSERT_TRUE(net.ok()) << net.status();
  const int64_t n = 13;
  const int64_t d = net->input_dim();
  const int64_t out_dim = net->output_dim();
  std::mt19937 gen(11);
  std::vector<float> x = Random(n * d, gen, 1.0f);
  if (c.trunk) {
    for (float& v : x) v = std::abs(v) * 0.3f;  // images in [0, ~1]
  }
  const float t = 0.4f, scale = -2.0f;
  std::vector<float> portable(n * out_dim);
  net->Evaluate(x.data(), n, t, scale, portable.data(), Isa::kPortable);
  bool nonzero = false;
  for (float v : portable) nonzero |= v != 0.0f;
  EXPECT_TRUE(nonzero);
  if (!IsaSupported(Isa::kAvx2)) GTEST_SKIP() << "this CPU has no AVX2+FMA";
  std::vector<float> all(n * out_dim);
  net->Evaluate(x.data(), n, t, scale, all.data());
  EXPECT_EQ(all, portable);
  for (const auto& [begin, size] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 1}, {12, 1}, {3, 5}, {1, 11}}) {
    std::vector<float> part(size * out_dim);
    net->Evaluate(x.data() + begin * d, size, t, scale, part.data());
    EXPECT_TRUE(
        std::equal(part.begin(), part.end(), all.begin() + begin * out_dim))
        << "rows " << begin << "+" << size;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Nets, RowwiseNetTest,
    ::testing::Values(
        Case{"mlp_tanh_potential", 2, false, 5, 48, Activation::kTanh, true},
        Case{"mlp_relu_velocity", 7, false, 3, 48, Activation::kRelu, false},
        Case{"mlp_softplus_potential", 12, false, 2, 20, Activation::kSoftplus,
             true},
        Case{"mlp_linear_potential", 3, false, 0, 0, Activation::kTanh, true},
        Case{"conv_relu_potential", 784, true, 2, 64, Activation::kRelu, true},
        Case{"conv_tanh_velocity", 784, true, 1, 32, Activation::kTanh, false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RowwiseNet, RefusesShapesItCannotEvaluate) {
  NetWeights w = Weights(2, false, 2, 8, Activation::kTanh, true, 1);
  NetWeights bad_in = w;
  bad_in.layers[1].in = 9;
  EXPECT_THAT(RowwiseNet::Create(bad_in, true).status().message(),
              ::testing::HasSubstr("layer 1 must map 8 inputs"));
  EXPECT_THAT(RowwiseNet::Create(w, false).status().message(),
              ::testing::HasSubstr("a direct velocity must have 2 outputs"));
  NetWeights short_bias = w;
  short_bias.layers[0].bias.pop_back();
  EXPECT_FALSE(RowwiseNet::Create(short_bias, true).ok());
  NetWeights conv = Weights(784, true, 1, 16, Activation::kRelu, true, 2);
  conv.conv2.resize(10);
  EXPECT_THAT(RowwiseNet::Create(conv, true).status().message(),
              ::testing::HasSubstr("conv weights of 392 and 3136"));
  NetWeights empty;
  empty.input_dim = 2;
  EXPECT_FALSE(RowwiseNet::Create(empty, true).ok());
}

}  // namespace
}  // namespace proxflow::core::kernels
