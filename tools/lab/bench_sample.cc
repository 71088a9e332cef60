#include "tools/lab/bench_sample.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <cstdio>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/device.h"
#include "core/options_resolver.h"
#include "core/torch_fence.h"
#include "core/trainer.h"
#include "tools/lab/lab_common.h"
#include "tools/lab/spread.h"

namespace proxflow::lab {

absl::Status RunBenchSample(const BenchSampleCommand& command) {
  if (command.repeats < 1 || command.steps < 0 || command.batches.empty()) {
    return absl::InvalidArgumentError(
        "bench sample: --repeats must be >= 1, --steps >= 0, --batches "
        "non-empty");
  }
  PROXFLOW_ASSIGN_OR_RETURN(auto trainer,
                            BenchTrainer(command.preset, command.mnist_dir,
                                         command.device, command.precision));
  const int steps =
      command.steps > 0 ? command.steps : trainer->options().flow.steps;
  const core::Solver solver = trainer->options().flow.sample_solver;
  for (const int batch : command.batches) {
    if (batch < 1 || batch > (1 << 20)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bench sample: each batch must be in [1, 1048576], got ", batch));
    }
    std::vector<uint64_t> seeds(batch);
    std::iota(seeds.begin(), seeds.end(), uint64_t{1});
    PROXFLOW_RETURN_IF_ERROR(trainer->Sample(seeds, solver, steps).status());
    PROXFLOW_RETURN_IF_ERROR(
        trainer->SampleBatchedBaseline(seeds, solver, steps).status());
    std::vector<double> rates, step_seconds, source_share, baseline_rates;
    for (int r = 0; r < command.repeats; ++r) {
      // The baseline first within each repeat, so that both sides see the
      // same machine state in turn.
      const Stopwatch baseline_clock;
      PROXFLOW_RETURN_IF_ERROR(
          trainer->SampleBatchedBaseline(seeds, solver, steps).status());
      baseline_rates.push_back(batch / baseline_clock.Seconds());
      const Stopwatch source_clock;
      PROXFLOW_RETURN_IF_ERROR(trainer->SourcePoints(seeds).status());
      const double source = source_clock.Seconds();
      const Stopwatch clock;
      PROXFLOW_RETURN_IF_ERROR(trainer->Sample(seeds, solver, steps).status());
      const double seconds = clock.Seconds();
      rates.push_back(batch / seconds);
      step_seconds.push_back((seconds - source) / steps);
      source_share.push_back(source / seconds);
    }
    const Spread rate = SpreadOf(rates);
    const Spread step = SpreadOf(step_seconds);
    const Spread baseline = SpreadOf(baseline_rates);
    std::printf(
        "{\"bench\": \"sample\", \"preset\": \"%s\", \"device\": \"%s\", "
        "\"precision\": \"%s\", \"batch\": %d, \"steps\": %d, "
        "\"images_per_second_median\": %.1f, \"min\": %.1f, \"max\": %.1f, "
        "\"step_seconds_median\": %.3g, \"step_seconds_min\": %.3g, "
        "\"step_seconds_max\": %.3g, \"source_share_median\": %.3f, "
        "\"batched_baseline_images_per_second_median\": %.1f, "
        "\"invariant_over_baseline\": %.3f, "
        "\"repeats\": %d, \"peak_rss_mib\": %.1f}\n",
        trainer->options().preset.c_str(), trainer->device().c_str(),
        trainer->precision().c_str(), batch, steps, rate.median, rate.min,
        rate.max, step.median, step.min, step.max,
        SpreadOf(source_share).median, baseline.median,
        rate.median / baseline.median, command.repeats, PeakResidentMiB());
    std::fflush(stdout);
  }
  return absl::OkStatus();
}

absl::Status RunBenchMatmul(const std::string& device, int n) {
  if (n < 64 || n > 32768) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench matmul: --n must be in [64, 32768], got ", n));
  }
  PROXFLOW_ASSIGN_OR_RETURN(core::DeviceSpec spec, core::ResolveDevice(device));
  return core::Fence("bench matmul", [&]() -> absl::Status {
    const c10::Device dev =
        spec.cuda ? c10::Device(c10::kCUDA, spec.index) : c10::Device("cpu");
    const auto sync = [&] {
      if (spec.cuda) torch::cuda::synchronize(spec.index);
    };
    for (const auto dtype : {at::kFloat, at::kBFloat16}) {
      const auto opts = at::TensorOptions().device(dev).dtype(dtype);
      const at::Tensor a = at::randn({n, n}, opts);
      const at::Tensor b = at::randn({n, n}, opts);
      at::Tensor c;
      for (int i = 0; i < 3; ++i) c = at::mm(a, b);
      sync();
      const int timed = spec.cuda ? 10 : 2;
      const Stopwatch clock;
      for (int i = 0; i < timed; ++i) c = at::mm(a, b);
      sync();
      const double seconds = clock.Seconds() / timed;
      std::printf(
          "{\"bench\": \"matmul\", \"device\": \"%s\", \"dtype\": \"%s\", "
          "\"n\": %d, \"seconds\": %.4g, \"tflops\": %.1f}\n",
          spec.ToString().c_str(), dtype == at::kFloat ? "fp32" : "bf16", n,
          seconds, 2.0 * n * n * static_cast<double>(n) / seconds / 1e12);
    }
    return absl::OkStatus();
  });
}

}  // namespace proxflow::lab
