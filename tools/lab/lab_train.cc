#include "tools/lab/lab_train.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/file_util.h"
#include "core/base/status_macros.h"
#include "core/metrics.h"
#include "core/options_resolver.h"
#include "core/torch_fence.h"
#include "core/trainer.h"
#include "tools/lab/lab_common.h"

namespace proxflow::lab {
namespace {

absl::StatusOr<double> Mmd(const core::PointSamples& a,
                           const core::PointSamples& b) {
  return core::Fence("mmd", [&] {
    return absl::StatusOr<double>(core::MmdRbf(ToTensor(a), ToTensor(b)));
  });
}

}  // namespace

absl::Status RunTrain(const TrainCommand& command) {
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(command.config));
  PROXFLOW_ASSIGN_OR_RETURN(
      auto trainer,
      core::Trainer::Create(options, {command.device, "", command.precision}));
  std::error_code ec;
  std::filesystem::create_directories(command.out_dir, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat(command.out_dir, ": ", ec.message()));

  std::printf(
      "proxflow-lab: preset %s, model %s, %lld iterations, batch %d, device "
      "%s\n",
      options.preset.c_str(), options.model.c_str(),
      static_cast<long long>(options.iterations), options.batch_size,
      trainer->device().c_str());
  std::vector<uint64_t> seeds(command.samples);
  std::iota(seeds.begin(), seeds.end(), uint64_t{1});
  PROXFLOW_ASSIGN_OR_RETURN(core::PointSamples target,
                            trainer->TargetSamples(command.samples));
  PROXFLOW_ASSIGN_OR_RETURN(
      core::PointSamples before,
      trainer->Sample(seeds, options.flow.sample_solver, options.flow.steps));
  PROXFLOW_ASSIGN_OR_RETURN(double mmd_before, Mmd(before, target));

  const Stopwatch stopwatch;
  const auto elapsed = [&] { return stopwatch.Seconds(); };
  core::RunHooks hooks;
  hooks.on_log = [&](const core::Metrics& m) {
    const double rate =
        static_cast<double>(m.iteration) / std::max(elapsed(), 1e-9);
    std::printf("iter %6lld/%lld  %6.1f it/s %s\n",
                static_cast<long long>(m.iteration),
                static_cast<long long>(options.iterations), rate,
                FormatMetrics(m).c_str());
    std::fflush(stdout);
  };
  hooks.on_eval = [&](const core::Metrics& m) {
    std::printf("eval %6lld %s\n", static_cast<long long>(m.iteration),
                FormatMetrics(m).c_str());
  };
  PROXFLOW_ASSIGN_OR_RETURN(core::RunResult result,
                            trainer->Run(hooks, nullptr));
  const double seconds = elapsed();
  if (result.outcome == core::RunOutcome::kDiverged) {
    std::printf("run ended: %s\n", result.reason.c_str());
  }

  PROXFLOW_ASSIGN_OR_RETURN(
      core::PointSamples after,
      trainer->Sample(seeds, options.flow.sample_solver, options.flow.steps));
  PROXFLOW_ASSIGN_OR_RETURN(double mmd_after, Mmd(after, target));
  PROXFLOW_ASSIGN_OR_RETURN(std::string checkpoint,
                            trainer->SerializeCheckpoint());
  const std::string checkpoint_path =
      absl::StrCat(command.out_dir, "/checkpoint.pxf");
  PROXFLOW_RETURN_IF_ERROR(WriteFileAtomically(checkpoint_path, checkpoint));

  const std::string plot_path = absl::StrCat(command.out_dir, "/samples.png");
  PROXFLOW_RETURN_IF_ERROR(WriteScatterPlot(plot_path, target, after));

  std::printf("trained %lld iterations in %.1f s (%.2f it/s)\n",
              static_cast<long long>(result.iteration), seconds,
              static_cast<double>(result.iteration) / std::max(seconds, 1e-9));
  std::printf(
      "MMD^2 (RBF, median bandwidth) generated vs target: %.5f before, %.5f "
      "after\n",
      mmd_before, mmd_after);
  std::printf(
      "checkpoint: %s (%zu bytes)\nplot: %s (grey: target, blue: generated)\n",
      checkpoint_path.c_str(), checkpoint.size(), plot_path.c_str());
  return absl::OkStatus();
}

}  // namespace proxflow::lab
