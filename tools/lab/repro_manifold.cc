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

// mean ‖a − b‖ over rows.
double MeanDistance(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm(2, {1}).mean().item<double>();
}

// Final measurements of a finished run: evaluation monitors, Sinkhorn on
// coordinates 0,1, drift of dt/2 and dt/8 against dt from the same seeds,
// off-manifold spread.
absl::Status Measure(core::Trainer& trainer, int n, RunRecord& r,
                     const std::string& plot_path) {
  PROXFLOW_ASSIGN_OR_RETURN(core::Metrics eval, trainer.Evaluate());
  r.divergence = eval.Find("divergence").value_or(NAN);
  r.kinetic_energy = eval.Find("kinetic_energy").value_or(NAN);
  r.hjb = eval.Find("hjb").value_or(NAN);
  r.terminal = eval.Find("terminal").value_or(NAN);
  r.straightness = eval.Find("straightness").value_or(NAN);
  const core::TrainOptions& o = trainer.options();
  std::vector<uint64_t> seeds(n);
  std::iota(seeds.begin(), seeds.end(), uint64_t{1});
  PROXFLOW_ASSIGN_OR_RETURN(core::PointSamples x0, trainer.SourcePoints(seeds));
  PROXFLOW_ASSIGN_OR_RETURN(
      core::PointSamples x1,
      trainer.Sample(seeds, core::Solver::kEuler, o.flow.steps));
  PROXFLOW_ASSIGN_OR_RETURN(
      core::PointSamples x2,
      trainer.Sample(seeds, core::Solver::kEuler, 2 * o.flow.steps));
  PROXFLOW_ASSIGN_OR_RETURN(
      core::PointSamples x8,
      trainer.Sample(seeds, core::Solver::kEuler, 8 * o.flow.steps));
  PROXFLOW_ASSIGN_OR_RETURN(core::PointSamples target,
                            trainer.TargetSamples(n));
  PROXFLOW_RETURN_IF_ERROR(core::Fence("measuring", [&] {
    const at::Tensor t0 = ToTensor(x0), t1 = ToTensor(x1), t2 = ToTensor(x2),
                     t8 = ToTensor(x8);
    const double displacement = std::max(MeanDistance(t1, t0), 1e-12);
    r.drift_dt2 = MeanDistance(t2, t1) / displacement;
    r.drift_dt8 = MeanDistance(t8, t1) / displacement;
    if (at::isfinite(t1).all().item<bool>()) {
      r.sinkhorn = core::SinkhornDivergence(t1.narrow(1, 0, 2),
                                            ToTensor(target).narrow(1, 0, 2));
    }
    if (t1.size(1) > 2)
      r.off_manifold_std = t1.narrow(1, 2, t1.size(1) - 2).std().item<double>();
  }));
  return WriteScatterPlot(plot_path, target, x1);
}

}  // namespace

absl::StatusOr<pb::TrainingConfig> AblationConfig(const std::string& method,
                                                  const std::string& dataset,
                                                  int dimension,
                                                  int64_t iterations,
                                                  uint64_t seed) {
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
  const bool bound = method == "w1w2" || method == "w1";
  const bool kinetic = method == "w1w2" || method == "w2";
  if (!bound && !kinetic && method != "none") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--methods: unknown method \"", method, "\" (w1w2, w2, w1, none)"));
  }
  if (!bound) c.mutable_critic()->set_lipschitz_mode(pb::LIPSCHITZ_MODE_NONE);
  if (!kinetic) c.mutable_flow()->set_loss_case(pb::LOSS_CASE_NO_OT);
  return c;
}

absl::Status RunReproManifold(const ReproManifoldCommand& command,
                              const std::atomic<bool>* cancel) {
  std::vector<pb::TrainingConfig> configs;
  for (int d : command.dims) {
    for (const std::string& m : command.methods) {
      PROXFLOW_ASSIGN_OR_RETURN(
          pb::TrainingConfig c,
          AblationConfig(m, command.dataset, d, command.iterations,
                         command.seed));
      PROXFLOW_RETURN_IF_ERROR(
          core::ResolveTrainOptions(c).status());  // fail before any run
      configs.push_back(std::move(c));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(command.out_dir, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat(command.out_dir, ": ", ec.message()));
  Report report{absl::StrCat("W1⊕W2 ablation on ", command.dataset),
                command.command_line,
                {}};
  size_t index = 0;
  for (int d : command.dims) {
    for (const std::string& method : command.methods) {
      if (cancel != nullptr && cancel->load())
        return WriteReport(command.out_dir, report);
      const pb::TrainingConfig& config = configs[index++];
      PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                                core::ResolveTrainOptions(config));
      RunRecord r;
      r.method = method;
      r.dataset = command.dataset;
      r.dimension = d;
      r.seed = command.seed;
      r.iterations_requested = options.iterations;
      PROXFLOW_ASSIGN_OR_RETURN(
          auto trainer, core::Trainer::Create(options, {command.device, ""}));
      const std::string label = absl::StrCat("[", index, "/", configs.size(),
                                             " ", method, " d=", d, "]");
      const Stopwatch stopwatch;
      const auto elapsed = [&] { return stopwatch.Seconds(); };
      core::RunHooks hooks;
      hooks.on_log = [&](const core::Metrics& m) {
        r.curve.push_back({m.iteration,
                           {m.Find("divergence").value_or(NAN),
                            m.Find("kinetic_energy").value_or(NAN)}});
        const double rate = m.iteration / std::max(elapsed(), 1e-9);
        std::fprintf(
            stderr, "%s iter %lld/%lld %.1f it/s ETA %s%s\n", label.c_str(),
            static_cast<long long>(m.iteration),
            static_cast<long long>(options.iterations), rate,
            FormatDuration((options.iterations - m.iteration) / rate).c_str(),
            FormatMetrics(m).c_str());
      };
      auto result = trainer->Run(hooks, cancel);
      r.wall_seconds = elapsed();
      if (!result.ok()) {
        r.outcome = "failed";
        r.reason = std::string(result.status().message());
      } else {
        r.iterations_completed = result->iteration;
        r.iterations_per_second =
            result->iteration / std::max(r.wall_seconds, 1e-9);
        r.reason = result->reason;
        r.outcome = result->outcome == core::RunOutcome::kDiverged ? "diverged"
                    : result->outcome == core::RunOutcome::kCancelled
                        ? "cancelled"
                        : "completed";
        if (result->outcome != core::RunOutcome::kDiverged) {
          r.plot = absl::StrCat(method, "_d", d, ".png");
          const absl::Status measured =
              Measure(*trainer, command.eval_samples, r,
                      absl::StrCat(command.out_dir, "/", r.plot));
          if (!measured.ok()) r.reason = std::string(measured.message());
        }
      }
      std::fprintf(
          stderr, "%s %s after %lld iterations (%s)%s\n", label.c_str(),
          r.outcome.c_str(), static_cast<long long>(r.iterations_completed),
          FormatDuration(r.wall_seconds).c_str(),
          r.reason.empty() ? "" : absl::StrCat(": ", r.reason).c_str());
      report.runs.push_back(std::move(r));
      PROXFLOW_RETURN_IF_ERROR(WriteReport(command.out_dir, report));
    }
  }
  return absl::OkStatus();
}

}  // namespace proxflow::lab
