// FusedAdamStep against torch::optim::Adam::step: the same parameters, state
// and step count, bit for bit, over tensors of every vector-tail length.
#include "core/fused_adam.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/optim/adam.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/kernels/adam_kernel.h"

namespace proxflow::core {
namespace {

// Parameters of these sizes (every tail length of an 8- and a 16-float
// vector, and large ones), filled from `seed`.
std::vector<at::Tensor> Params(uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  std::vector<at::Tensor> params;
  for (const int64_t n : {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, 4097})
    params.push_back(at::randn({n}, gen).requires_grad_(true));
  params.push_back(at::randn({48, 13}, gen).requires_grad_(true));
  return params;
}

void SetGrads(std::vector<at::Tensor>& params, uint64_t seed, int step) {
  at::Generator gen = at::detail::createCPUGenerator(seed * 100 + step);
  for (at::Tensor& p : params) {
    // Some tiny and some large gradients: the denominator's ε matters.
    at::Tensor g = at::randn(p.sizes(), gen) * (step % 2 == 0 ? 1.0 : 1e-6);
    p.mutable_grad() = g;
  }
}

const torch::optim::AdamParamState& State(torch::optim::Adam& adam,
                                          const at::Tensor& p) {
  return static_cast<const torch::optim::AdamParamState&>(
      *adam.state().at(c10::guts::to_string(p.unsafeGetTensorImpl())));
}

struct Case {
  double lr, beta1, beta2, eps;
};

// Whether LibTorch runs its AVX2 or AVX-512 kernels, whose add_(alpha) and
// addcmul_ round as the fused step does (one FMA). Its portable DEFAULT
// kernels (a CPU without AVX2, or ATEN_CPU_CAPABILITY=default) round the
// product and the sum apart: there the fused step agrees to float rounding.
bool LibTorchRunsFmaKernels() {
  const char* capability = std::getenv("ATEN_CPU_CAPABILITY");
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         (capability == nullptr || std::string(capability) != "default");
}

bool Same(const at::Tensor& a, const at::Tensor& b) {
  return LibTorchRunsFmaKernels() ? at::equal(a, b)
                                  : at::allclose(a, b, 1e-5, 1e-7);
}

TEST(FusedAdam, StepsAreAdamsStepsBitForBit) {
  for (const Case& c :
       {Case{1e-3, 0.9, 0.999, 1e-8}, Case{1e-4, 0.5, 0.9, 1e-8},
        Case{0.3, 0.0, 0.99, 1e-3}}) {
    std::vector<at::Tensor> ours = Params(5);
    std::vector<at::Tensor> theirs;
    for (const at::Tensor& p : ours)
      theirs.push_back(p.detach().clone().requires_grad_(true));
    const auto options =
        torch::optim::AdamOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.eps);
    torch::optim::Adam fused(ours, options);
    torch::optim::Adam reference(theirs, options);
    for (int step = 1; step <= 6; ++step) {
      SetGrads(ours, 5, step);
      SetGrads(theirs, 5, step);
      std::vector<int64_t> versions;
      for (const at::Tensor& p : ours) versions.push_back(p._version());
      FusedAdamStep(fused);
      reference.step();
      for (size_t i = 0; i < ours.size(); ++i) {
        // In-place updates bump the version (RowwiseVelocityField's cache
        // of the weights depends on it).
        EXPECT_GT(ours[i]._version(), versions[i]) << i;
        const std::string where =
            "lr " + std::to_string(c.lr) + " β₁ " + std::to_string(c.beta1) +
            " step " + std::to_string(step) + " parameter " +
            std::to_string(i) + " of " + std::to_string(ours[i].numel());
        ASSERT_TRUE(Same(ours[i], theirs[i])) << where;
        const auto& a = State(fused, ours[i]);
        const auto& b = State(reference, theirs[i]);
        EXPECT_EQ(a.step(), b.step()) << where;
        ASSERT_TRUE(Same(a.exp_avg(), b.exp_avg())) << where;
        ASSERT_TRUE(Same(a.exp_avg_sq(), b.exp_avg_sq())) << where;
      }
    }
    // Adam::step continues from the fused state as from its own.
    SetGrads(ours, 5, 7);
    SetGrads(theirs, 5, 7);
    fused.step();
    reference.step();
    for (size_t i = 0; i < ours.size(); ++i)
      ASSERT_TRUE(Same(ours[i], theirs[i])) << "Adam::step after, " << i;
  }
}

TEST(FusedAdam, ParametersWithoutGradientsAndOtherLayoutsTakeAdamsPath) {
  std::vector<at::Tensor> ours = Params(9);
  std::vector<at::Tensor> theirs;
  for (const at::Tensor& p : ours)
    theirs.push_back(p.detach().clone().requires_grad_(true));
  // A weight-decay group is not fused: the whole step is Adam's.
  const auto options = torch::optim::AdamOptions(1e-3).weight_decay(0.01);
  torch::optim::Adam fused(ours, options);
  torch::optim::Adam reference(theirs, options);
  for (int step = 1; step <= 3; ++step) {
    SetGrads(ours, 9, step);
    SetGrads(theirs, 9, step);
    ours[2].mutable_grad() = at::Tensor();  // no gradient: untouched
    theirs[2].mutable_grad() = at::Tensor();
    FusedAdamStep(fused);
    reference.step();
    for (size_t i = 0; i < ours.size(); ++i)
      ASSERT_TRUE(at::equal(ours[i], theirs[i])) << i;
  }
  EXPECT_EQ(
      fused.state().count(c10::guts::to_string(ours[2].unsafeGetTensorImpl())),
      0u);
}

TEST(AdamUpdate, EveryPathGivesTheSameBits) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const int64_t n = 1003;
  const at::Tensor g = at::randn({n}, gen);
  const at::Tensor p0 = at::randn({n}, gen);
  const at::Tensor m0 = at::randn({n}, gen) * 0.1;
  const at::Tensor v0 = at::rand({n}, gen) * 0.01;
  kernels::AdamScalars s;
  s.beta1 = 0.9f;
  s.one_minus_beta1 = static_cast<float>(1 - 0.9);
  s.beta2 = 0.999f;
  s.one_minus_beta2 = static_cast<float>(1 - 0.999);
  s.root_correction2 = 0.05f;
  s.eps = 1e-8f;
  s.minus_step = -0.01f;
  std::vector<at::Tensor> results;
  for (const kernels::Isa isa :
       {kernels::Isa::kPortable, kernels::Isa::kBest}) {
    at::Tensor p = p0.clone(), m = m0.clone(), v = v0.clone();
    kernels::AdamUpdate(p.data_ptr<float>(), g.data_ptr<float>(),
                        m.data_ptr<float>(), v.data_ptr<float>(), n, s, isa);
    results.push_back(at::cat({p, m, v}));
  }
  EXPECT_TRUE(at::equal(results[0], results[1]));
  EXPECT_FALSE(at::equal(results[0], at::cat({p0, m0, v0})));
}

}  // namespace
}  // namespace proxflow::core
