#include "tools/lab/repro_manifold.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/metrics.h"
#include "core/options_resolver.h"
#include "core/torch_fence.h"
#include "core/trainer.h"
#include "tools/lab/lab_common.h"
#include "tools/lab/repro_report.h"
#include "tools/lab/repro_run.h"

namespace proxflow::lab {
namespace {

namespace pb = ::proxflow::v1;

absl::StatusOr<pb::ToyShape> ParseToy(const std::string& name) {
  std::string upper = absl::AsciiStrToUpper(name);
  if (upper == "8GAUSSIANS") upper = "EIGHT_GAUSSIANS";
  if (upper == "2SPIRALS") upper = "TWO_SPIRALS";
  pb::ToyShape shape;
  if (!pb::ToyShape_Parse("TOY_SHAPE_" + upper, &shape) ||
      shape == pb::TOY_SHAPE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dataset: unknown toy set \"", name, "\""));
  }
  return shape;
}

// Sinkhorn on coordinates 0,1 and the off-manifold spread of a finished run,
// after the flow measurements every study shares; its scatter plot
// (DIR/STEM.png) and off-manifold density (DIR/STEM_offmanifold.png, d > 2).
absl::Status Measure(core::Trainer& trainer, int n, RunRecord& r,
                     const std::string& dir, const std::string& stem) {
  PROXFLOW_ASSIGN_OR_RETURN(FlowSamples s, MeasureFlow(trainer, n, r));
  PROXFLOW_ASSIGN_OR_RETURN(core::PointSamples target,
                            trainer.TargetSamples(n));
  PROXFLOW_RETURN_IF_ERROR(core::Fence("measuring", [&] {
    const at::Tensor& t1 = s.x1;
    if (at::isfinite(t1).all().item<bool>()) {
      r.sinkhorn = core::SinkhornDivergence(t1.narrow(1, 0, 2),
                                            ToTensor(target).narrow(1, 0, 2));
    }
    if (t1.size(1) > 2)
      r.off_manifold_std = t1.narrow(1, 2, t1.size(1) - 2).std().item<double>();
  }));
  r.plot = absl::StrCat(stem, ".png");
  PROXFLOW_RETURN_IF_ERROR(WriteOffManifoldDensityPlot(
      dir, absl::StrCat(stem, "_offmanifold.png"), s.x1, r));
  return WriteScatterPlot(absl::StrCat(dir, "/", r.plot), target, s.samples);
}

}  // namespace

absl::StatusOr<pb::TrainingConfig> AblationConfig(
    const std::string& method, const std::string& dataset, int dimension,
    int64_t iterations, uint64_t seed, const std::string& patch) {
  pb::TrainingConfig c;
  c.set_preset(dimension == 2   ? "toy-2d"
               : dimension == 7 ? "manifold-7d"
                                : "manifold-12d");
  PROXFLOW_ASSIGN_OR_RETURN(pb::ToyShape toy, ParseToy(dataset));
  c.mutable_dataset()->set_toy(toy);
  c.mutable_dataset()->set_dimension(dimension);
  if (iterations > 0) c.set_iterations(iterations);
  c.set_seed(seed);
  c.set_log_interval(50);
  c.set_checkpoint_interval(0);
  c.set_eval_interval(0);
  PROXFLOW_RETURN_IF_ERROR(ApplyPatchAndMethod(patch, method, c));
  return c;
}

absl::Status RunReproManifold(const ReproManifoldCommand& command,
                              const std::atomic<bool>* cancel) {
  if (command.seeds.empty())
    return absl::InvalidArgumentError("--seeds: no seed given");
  std::vector<pb::TrainingConfig> configs;
  for (int d : command.dims) {
    for (const std::string& m : command.methods) {
      for (uint64_t seed : command.seeds) {
        PROXFLOW_ASSIGN_OR_RETURN(
            pb::TrainingConfig c,
            AblationConfig(m, command.dataset, d, command.iterations, seed,
                           command.config_patch));
        PROXFLOW_RETURN_IF_ERROR(
            core::ResolveTrainOptions(c).status());  // fail before any run
        configs.push_back(std::move(c));
      }
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(command.out_dir, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat(command.out_dir, ": ", ec.message()));
  Report report{absl::StrCat("W1⊕W2 ablation on ", command.dataset),
                command.command_line,
                {},
                {},
                false};
  size_t index = 0;
  for (int d : command.dims) {
    for (const std::string& method : command.methods) {
      for (uint64_t seed : command.seeds) {
        if (cancel != nullptr && cancel->load())
          return WriteReport(command.out_dir, report);
        RunRecord r;
        PROXFLOW_ASSIGN_OR_RETURN(
            auto trainer,
            StartRecordedRun(configs[index++], method, command.dataset,
                             {command.device, "", command.precision}, r));
        const std::string label =
            absl::StrCat("[", index, "/", configs.size(), " ", method, " d=", d,
                         command.seeds.size() > 1 ? absl::StrCat(" seed ", seed)
                                                  : std::string(),
                         "]");
        const std::string stem =
            RunStem(method, absl::StrCat("d", d), seed, command.seeds.size());
        const bool measurable = TrainRecorded(*trainer, label, cancel, r);
        absl::Status plotted =
            WriteCurvePlot(command.out_dir, stem + "_curves.png", r);
        if (measurable) {
          const absl::Status measured =
              Measure(*trainer, command.eval_samples, r, command.out_dir, stem);
          if (!measured.ok()) r.reason = std::string(measured.message());
        }
        if (!plotted.ok()) r.reason = std::string(plotted.message());
        report.runs.push_back(std::move(r));
        PROXFLOW_RETURN_IF_ERROR(WriteReport(command.out_dir, report));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace proxflow::lab
