#include "tools/lab/repro_run.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/options_resolver.h"
#include "core/torch_fence.h"
#include "tools/lab/lab_common.h"

namespace proxflow::lab {
namespace {

namespace pb = ::proxflow::v1;

// mean ‖a − b‖ over rows.
double MeanDistance(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm(2, {1}).mean().item<double>();
}

}  // namespace

absl::Status ApplyMethod(const std::string& method, pb::TrainingConfig& c) {
  const bool bound = method == "w1w2" || method == "w1";
  const bool kinetic = method == "w1w2" || method == "w2";
  if (!bound && !kinetic && method != "none") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--methods: unknown method \"", method, "\" (w1w2, w2, w1, none)"));
  }
  if (!bound) c.mutable_critic()->set_lipschitz_mode(pb::LIPSCHITZ_MODE_NONE);
  if (!kinetic) c.mutable_flow()->set_loss_case(pb::LOSS_CASE_NO_OT);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<core::Trainer>> StartRecordedRun(
    const pb::TrainingConfig& config, const std::string& method,
    const std::string& dataset, const std::string& device,
    const std::string& precision, RunRecord& r) {
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(config));
  r.method = method;
  r.dataset = dataset;
  r.dimension = static_cast<int>(options.dataset.dimension);
  r.seed = config.seed();
  PROXFLOW_ASSIGN_OR_RETURN(
      auto trainer, core::Trainer::Create(options, {device, "", precision}));
  r.precision = trainer->precision();
  return trainer;
}

bool TrainRecorded(core::Trainer& trainer, const std::string& label,
                   const std::atomic<bool>* cancel, RunRecord& r) {
  const core::TrainOptions& options = trainer.options();
  r.iterations_requested = options.iterations;
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
  auto result = trainer.Run(hooks, cancel);
  r.wall_seconds = elapsed();
  if (!result.ok()) {
    r.outcome = "failed";
    r.reason = std::string(result.status().message());
  } else {
    r.iterations_completed = result->iteration;
    r.iterations_per_second =
        result->iteration / std::max(r.wall_seconds, 1e-9);
    r.reason = result->reason;
    r.outcome = result->outcome == core::RunOutcome::kDiverged    ? "diverged"
                : result->outcome == core::RunOutcome::kCancelled ? "cancelled"
                                                                  : "completed";
  }
  std::fprintf(stderr, "%s %s after %lld iterations (%s)%s\n", label.c_str(),
               r.outcome.c_str(),
               static_cast<long long>(r.iterations_completed),
               FormatDuration(r.wall_seconds).c_str(),
               r.reason.empty() ? "" : absl::StrCat(": ", r.reason).c_str());
  return r.outcome == "completed" || r.outcome == "cancelled";
}

absl::StatusOr<FlowSamples> MeasureFlow(core::Trainer& trainer, int n,
                                        RunRecord& r) {
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
  return core::Fence(
      "measuring the flow", [&]() -> absl::StatusOr<FlowSamples> {
        FlowSamples s{ToTensor(x0), ToTensor(x1), x1};
        const double displacement = std::max(MeanDistance(s.x1, s.x0), 1e-12);
        r.drift_dt2 = MeanDistance(ToTensor(x2), s.x1) / displacement;
        r.drift_dt8 = MeanDistance(ToTensor(x8), s.x1) / displacement;
        return s;
      });
}

}  // namespace proxflow::lab
