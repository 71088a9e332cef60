// Mixed precision of the network bodies (bf16 autocast, fp32 everything else):
// the resolution rules, and on the CPU (where LibTorch's autocast runs the same
// code as on CUDA) that outputs, gradients and weights stay float32 and close
// to the fp32 result. The CUDA run is measured by bench/gpu_run.sh.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <cmath>

#include "core/device.h"
#include "core/networks.h"
#include "core/options_resolver.h"
#include "core/trainer.h"

namespace proxflow::core {
namespace {

TEST(Precision, ResolvesAutoByDeviceAndNamesBadValues) {
  EXPECT_EQ(*ResolvePrecision("auto", DeviceSpec{false, 0}),
            Precision::kFloat32);
  EXPECT_EQ(*ResolvePrecision("auto", DeviceSpec{true, 0}),
            Precision::kBfloat16);
  EXPECT_EQ(*ResolvePrecision("bf16", DeviceSpec{false, 0}),
            Precision::kBfloat16);
  EXPECT_EQ(*ResolvePrecision("fp32", DeviceSpec{true, 0}),
            Precision::kFloat32);
  auto bad = ResolvePrecision("fp16", DeviceSpec{false, 0});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("\"fp16\""), std::string::npos);
  EXPECT_STREQ(PrecisionName(Precision::kBfloat16), "bf16");
}

TEST(Precision, Bf16BodiesReturnFloat32CloseToFp32) {
  for (const Architecture arch : {Architecture::kMlp, Architecture::kConv}) {
    at::manual_seed(1);
    FlowNet net(784, /*with_time=*/true, 1,
                NetworkOptions{arch, 2, 64, Activation::kRelu});
    const at::Tensor x = at::rand({16, 784}).requires_grad_(true);
    const at::Tensor t = at::full({16, 1}, 0.3);
    const at::Tensor exact = net->forward(x, t);
    net->set_bf16(true);
    const at::Tensor mixed = net->forward(x, t);
    EXPECT_EQ(mixed.scalar_type(), at::kFloat);
    const double scale = exact.abs().max().item<double>();
    EXPECT_LT((mixed - exact).abs().max().item<double>(), 0.05 * scale + 1e-3)
        << "architecture " << static_cast<int>(arch);
    EXPECT_GT((mixed - exact).abs().max().item<double>(), 0.0)
        << "bf16 must actually change the arithmetic";
    // ∇ₓ through the bf16 body is float32, as are the weights and their grads.
    const at::Tensor grad = torch::autograd::grad({mixed.sum()}, {x},
                                                  /*grad_outputs=*/{},
                                                  /*retain_graph=*/true)[0];
    EXPECT_EQ(grad.scalar_type(), at::kFloat);
    mixed.sum().backward();
    for (const auto& p : net->parameters()) {
      EXPECT_EQ(p.scalar_type(), at::kFloat);
      ASSERT_TRUE(p.grad().defined());
      EXPECT_EQ(p.grad().scalar_type(), at::kFloat);
    }
    if (net->has_analytic_input_gradient()) {
      const at::Tensor analytic = net->InputGradient(x.detach(), t);
      EXPECT_EQ(analytic.scalar_type(), at::kFloat);
    }
  }
}

TEST(Precision, TrainerTrainsInBf16AndReportsIt) {
  proxflow::v1::TrainingConfig c;
  c.set_preset("toy-2d");
  c.set_iterations(5);
  auto options = ResolveTrainOptions(c);
  ASSERT_TRUE(options.ok());
  auto bad = Trainer::Create(*options, {"cpu", "", "half"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto trainer = Trainer::Create(*options, {"cpu", "", "bf16"});
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  EXPECT_EQ((*trainer)->precision(), "bf16");
  for (int i = 0; i < 3; ++i) {
    auto m = (*trainer)->Step();
    ASSERT_TRUE(m.ok()) << m.status();
    for (const auto& [name, value] : m->values)
      EXPECT_TRUE(std::isfinite(value)) << name;
  }
  auto fp32 = Trainer::Create(*options, {"cpu", ""});
  ASSERT_TRUE(fp32.ok());
  EXPECT_EQ((*fp32)->precision(), "fp32");  // auto on the CPU
}

}  // namespace
}  // namespace proxflow::core
