// proxflow-micro-bench: Google Benchmark figures for the hot paths of core,
// each beside its baseline in the same run (issue "Performance").
//
//   proxflow-micro-bench [--threads 1] [Google Benchmark flags, e.g.
//                        --benchmark_repetitions=5 --benchmark_format=json]
//
// - Tanh/{libtorch,proxflow}/N: at::tanh against core::Tanh on N×48 floats.
// - EulerStep/{forward,grad_u,grad_u_autograd,update}/<net>/N: one Euler step
//   of the manifold-12d potential (MLP 5×48 tanh on 12+1 inputs) split into
//   the forward pass U(x,t), ∇ₓU by the analytic backward pass (and, as its
//   baseline, by autograd), and the update x ← x − dt·∇U/λ; the mnist
//   potential (conv trunk + 3×512 ReLU) has forward, autograd ∇ₓU and update.
// - ConvKernel/{forward,weight_grad}/<isa>/<shape>: one image through the
//   trunk's convolution kernels (core/kernels/row_kernels.h) on the AVX2 path
//   beside the AVX-512 one where there is one (the forward convolutions from
//   cin > 1; the same bits), GFLOP/s as a counter; shapes: the
//   first convolution (28×28, 1→8), the second (14×14, 8→8) and the input
//   gradient through the first (28×28, 8→1), 7×7 kernels.
// - DenseKernel/<isa>/<rows>x<K>x<N>: kernels::DenseRows on the mnist
//   potential's 512-wide layers (the sampling path's blocks of 32 rows), beside
//   DenseKernel/openblas/<rows>x<K>x<N> (at::mm: OpenBLAS sgemm, which the
//   batched baseline uses, at 32 rows and at 4096); GFLOP/s as a counter.
// - TrainingIteration/<preset>: one full iteration of Trainer::Step (5 critic
//   steps and one generator step).
// - TrainingGrowth/manifold/batch:B/steps:S/dim:D: the same iteration as one
//   of batch size, Euler steps and dimension varies from (200, 5, 12).
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/base/blas_kernels.h"
#include "core/device.h"
#include "core/fast_tanh.h"
#include "core/kernels/row_kernels.h"
#include "core/networks.h"
#include "core/options_resolver.h"
#include "core/trainer.h"
#include "proxflow/v1/config.pb.h"

namespace proxflow::core {
namespace {

constexpr double kDt = 0.2;
constexpr double kLambda = 0.1;

void Tanh(benchmark::State& state, bool ours) {
  at::manual_seed(0);
  const at::Tensor x = at::randn({state.range(0), 48});
  for (auto _ : state) {
    at::Tensor y = ours ? core::Tanh(x) : at::tanh(x);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * x.numel());
}

// The preset's potential, Glorot-initialised from a fixed seed.
FlowNet Potential(bool mnist) {
  NetworkOptions options;
  options.architecture = mnist ? Architecture::kConv : Architecture::kMlp;
  options.depth = mnist ? 3 : 5;
  options.width = mnist ? 512 : 48;
  options.activation = mnist ? Activation::kRelu : Activation::kTanh;
  FlowNet net(mnist ? 784 : 12, /*with_time=*/true, 1, options);
  at::Generator generator = at::detail::createCPUGenerator(7);
  GlorotNormalInit(*net, generator);
  return net;
}

enum class Part { kForward, kGradU, kGradUAutograd, kUpdate };

void EulerStep(benchmark::State& state, bool mnist, Part part) {
  FlowNet net = Potential(mnist);
  at::manual_seed(1);
  const int64_t n = state.range(0);
  at::Tensor x = mnist ? at::rand({n, 784}) * 0.5 : at::randn({n, 12});
  const at::Tensor t = at::full({n, 1}, 0.4);
  const at::Tensor grad = at::randn_like(x);
  for (auto _ : state) {
    switch (part) {
      case Part::kForward: {
        torch::NoGradGuard no_grad;
        benchmark::DoNotOptimize(net->forward(x, t).data_ptr());
        break;
      }
      case Part::kGradU:
        benchmark::DoNotOptimize(net->InputGradient(x, t).data_ptr());
        break;
      case Part::kGradUAutograd: {
        const at::Tensor xi = x.detach().requires_grad_(true);
        const at::Tensor g = torch::autograd::grad({net->forward(xi, t).sum()},
                                                   {xi}, {}, false, false)[0];
        benchmark::DoNotOptimize(g.data_ptr());
        break;
      }
      case Part::kUpdate: {
        torch::NoGradGuard no_grad;
        x.add_(grad, -kDt / kLambda);
        benchmark::DoNotOptimize(x.data_ptr());
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// One training iteration of `preset`; with `growth`, of manifold-12d with
// batch size, Euler steps and dimension from the benchmark's three arguments.
void TrainingIteration(benchmark::State& state, const std::string& preset,
                       bool growth = false) {
  proxflow::v1::TrainingConfig config;
  config.set_preset(preset);
  config.set_eval_interval(0);
  config.set_checkpoint_interval(0);
  if (growth) {
    config.set_batch_size(static_cast<int>(state.range(0)));
    config.mutable_flow()->set_dt(1.0 / static_cast<double>(state.range(1)));
    config.mutable_dataset()->set_dimension(static_cast<int>(state.range(2)));
  }
  auto options = ResolveTrainOptions(config);
  if (!options.ok()) {
    state.SkipWithError(std::string(options.status().message()).c_str());
    return;
  }
  auto trainer = Trainer::Create(*options, {"cpu", "", "fp32"});
  if (!trainer.ok()) {
    state.SkipWithError(std::string(trainer.status().message()).c_str());
    return;
  }
  if (!(*trainer)->Step().ok()) {  // warm-up: first-touch allocations
    state.SkipWithError("training step failed");
    return;
  }
  for (auto _ : state) {
    if (!(*trainer)->Step().ok()) {
      state.SkipWithError("training step failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

struct ConvShape {
  const char* name;
  int64_t size, cin, cout;
};
constexpr int64_t kConvKernel = 7;

void ConvKernel(benchmark::State& state, const ConvShape& shape,
                kernels::Isa isa, bool weight_grad) {
  if (!kernels::IsaSupported(isa)) {
    state.SkipWithError("the CPU lacks this instruction set");
    return;
  }
  const int64_t padded = shape.size + kConvKernel - 1;
  std::vector<float> in(padded * padded * shape.cin, 0.5f);
  std::vector<float> w(kConvKernel * kConvKernel * shape.cin * shape.cout,
                       0.01f);
  std::vector<float> g(shape.size * shape.size * shape.cout, 0.25f);
  std::vector<float> out(std::max(w.size(), g.size()));
  for (auto _ : state) {
    const bool ok =
        weight_grad ? kernels::ConvWeightGradNhwc(
                          in.data(), shape.size, shape.size, shape.cin,
                          g.data(), kConvKernel, shape.cout, out.data(), isa)
                    : kernels::ConvSameNhwc(in.data(), shape.size, shape.size,
                                            shape.cin, w.data(), kConvKernel,
                                            shape.cout, out.data(), isa);
    if (!ok) {
      state.SkipWithError("shape refused");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double flop = 2.0 * shape.size * shape.size * kConvKernel *
                      kConvKernel * shape.cin * shape.cout;
  state.counters["GFLOP/s"] = benchmark::Counter(
      flop * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}

void DenseKernel(benchmark::State& state, int64_t rows, int64_t k, int64_t n,
                 kernels::Isa isa, bool openblas) {
  if (!openblas && !kernels::IsaSupported(isa)) {
    state.SkipWithError("the CPU lacks this instruction set");
    return;
  }
  at::manual_seed(3);
  const at::Tensor a = at::randn({rows, k});
  const at::Tensor m = at::randn({k, n}) * 0.05;
  at::Tensor out = at::empty({rows, n});
  const kernels::MatrixView view{m.data_ptr<float>(), k, n, n};
  for (auto _ : state) {
    if (openblas) {
      at::mm_out(out, a, m);
    } else {
      kernels::DenseRows(a.data_ptr<float>(), rows, k, view, nullptr,
                         out.data_ptr<float>(), n, isa);
    }
    benchmark::DoNotOptimize(out.data_ptr());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * rows * k * n * 1e-9 * state.iterations(),
                         benchmark::Counter::kIsRate);
}

void Register() {
  for (const int64_t rows : {int64_t{32}, int64_t{4096}}) {
    for (const char* isa : {"openblas", "avx2", "avx512"}) {
      const bool openblas = std::strcmp(isa, "openblas") == 0;
      if (rows != 32 && !openblas) continue;  // ours runs blocks of 32 rows
      const kernels::Isa which = std::strcmp(isa, "avx512") == 0
                                     ? kernels::Isa::kAvx512
                                     : kernels::Isa::kAvx2;
      benchmark::RegisterBenchmark(
          (std::string("DenseKernel/") + isa + "/" + std::to_string(rows) +
           "x512x512")
              .c_str(),
          [rows, which, openblas](benchmark::State& s) {
            DenseKernel(s, rows, 512, 512, which, openblas);
          })
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (const ConvShape& shape :
       {ConvShape{"28x28_1to8", 28, 1, 8}, ConvShape{"14x14_8to8", 14, 8, 8},
        ConvShape{"28x28_8to1", 28, 8, 1}}) {
    for (const bool weight_grad : {false, true}) {
      for (const kernels::Isa isa :
           {kernels::Isa::kAvx2, kernels::Isa::kAvx512}) {
        // AVX-512 exists for the forward convolutions from cin > 1 only
        // (kernels::ConvSameNhwc); elsewhere it would time AVX2 twice.
        if (isa == kernels::Isa::kAvx512 && (weight_grad || shape.cin == 1)) {
          continue;
        }
        benchmark::RegisterBenchmark(
            (std::string("ConvKernel/") +
             (weight_grad ? "weight_grad/" : "forward/") +
             (isa == kernels::Isa::kAvx2 ? "avx2/" : "avx512/") + shape.name)
                .c_str(),
            [shape, isa, weight_grad](benchmark::State& s) {
              ConvKernel(s, shape, isa, weight_grad);
            })
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  for (const bool ours : {false, true}) {
    benchmark::RegisterBenchmark(ours ? "Tanh/proxflow" : "Tanh/libtorch",
                                 [ours](benchmark::State& s) { Tanh(s, ours); })
        ->Arg(200)
        ->Arg(1000)
        ->Arg(4096);
  }
  const struct {
    const char* name;
    Part part;
    bool mlp_only;
  } parts[] = {{"forward", Part::kForward, false},
               {"grad_u", Part::kGradU, true},
               {"grad_u_autograd", Part::kGradUAutograd, false},
               {"update", Part::kUpdate, false}};
  for (const auto& p : parts) {
    const Part part = p.part;
    benchmark::RegisterBenchmark(
        (std::string("EulerStep/") + p.name + "/manifold-12d").c_str(),
        [part](benchmark::State& s) { EulerStep(s, false, part); })
        ->Arg(1)
        ->Arg(200)
        ->Arg(1000)
        ->Arg(4096);
    if (p.mlp_only) continue;
    benchmark::RegisterBenchmark(
        (std::string("EulerStep/") + p.name + "/mnist").c_str(),
        [part](benchmark::State& s) { EulerStep(s, true, part); })
        ->Arg(1)
        ->Arg(16)
        ->Arg(256)
        ->Unit(benchmark::kMicrosecond);
  }
  for (const char* preset : {"toy-2d", "manifold-12d"}) {
    benchmark::RegisterBenchmark(
        (std::string("TrainingIteration/") + preset).c_str(),
        [preset](benchmark::State& s) { TrainingIteration(s, preset); })
        ->Unit(benchmark::kMillisecond);
  }
  // How the cost grows: one factor at a time from manifold-12d's batch 200,
  // 5 Euler steps, d = 12.
  auto* growth = benchmark::RegisterBenchmark(
      "TrainingGrowth/manifold", [](benchmark::State& s) {
        TrainingIteration(s, "manifold-12d", /*growth=*/true);
      });
  growth->ArgNames({"batch", "steps", "dim"})->Unit(benchmark::kMillisecond);
  for (int64_t batch : {50, 100, 200, 400, 800, 1600})
    growth->Args({batch, 5, 12});
  for (int64_t steps : {1, 2, 10, 20}) growth->Args({200, steps, 12});
  for (int64_t dim : {2, 32, 128, 512}) growth->Args({200, 5, dim});
}

}  // namespace
}  // namespace proxflow::core

int main(int argc, char** argv) {
  proxflow::SelectBlasKernels(
      argv,
      /*passive_openmp_wait=*/true);  // may re-execute; see blas_kernels.h
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0)
      threads = std::atoi(argv[i] + 10);
  }
  const auto configured = proxflow::core::ConfigureTorchThreads(threads);
  if (!configured.ok()) {
    std::fprintf(stderr, "proxflow-micro-bench: %s\n",
                 std::string(configured.status().message()).c_str());
    return 2;
  }
  const proxflow::BlasKernels blas = proxflow::CurrentBlasKernels();
  benchmark::AddCustomContext("torch_threads", std::to_string(*configured));
  benchmark::AddCustomContext("openblas_core", blas.core);
  proxflow::core::Register();
  // Google Benchmark rejects flags it does not know: drop --threads=.
  int kept = 0;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) != 0) argv[kept++] = argv[i];
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
