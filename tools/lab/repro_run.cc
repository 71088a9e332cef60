#include "tools/lab/repro_run.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/file_util.h"
#include "core/base/status_macros.h"
#include "core/image/chart.h"
#include "core/options_resolver.h"
#include "core/torch_fence.h"
#include "google/protobuf/util/json_util.h"
#include "tools/lab/lab_common.h"

namespace proxflow::lab {
namespace {

namespace pb = ::proxflow::v1;

// Renders `series` with a log10 y axis to DIR/FILE and records FILE in
// `field`.
absl::Status WriteLogChart(const std::string& dir, const std::string& file,
                           const std::vector<image::ChartSeries>& series,
                           std::string& field) {
  image::ChartOptions options;
  options.log_y = true;
  PROXFLOW_ASSIGN_OR_RETURN(std::string png,
                            image::RenderChartPng(series, options));
  PROXFLOW_RETURN_IF_ERROR(
      WriteFileAtomically(absl::StrCat(dir, "/", file), png));
  field = file;
  return absl::OkStatus();
}

// mean ‖a − b‖ over rows.
// Per Euler step i: mean speed ‖x_{i+1} − x_i‖/dt; between steps i and i+1:
// the mean angle between the two displacements, in degrees, over samples
// whose both displacements are longer than 1e-6 (0° = straight on).
void StepProfile(const at::Tensor& x0,
                 const std::vector<core::PointSamples>& path, double dt,
                 RunRecord& r) {
  at::Tensor previous_state = x0.to(at::kDouble);
  at::Tensor previous_step;
  for (const core::PointSamples& state : path) {
    const at::Tensor x = ToTensor(state).to(at::kDouble);
    const at::Tensor step = x - previous_state;
    r.step_speed.push_back(step.norm(2, {1}).mean().item<double>() / dt);
    if (previous_step.defined()) {
      const at::Tensor a = previous_step.norm(2, {1});
      const at::Tensor b = step.norm(2, {1});
      const at::Tensor moving = (a > 1e-6).logical_and(b > 1e-6);
      const at::Tensor cosine =
          ((previous_step * step).sum(1) / (a * b).clamp_min(1e-300))
              .clamp(-1.0, 1.0);
      r.step_turn_degrees.push_back(
          moving.any().item<bool>()
              ? (at::arccos(cosine.masked_select(moving)) * (180.0 / M_PI))
                    .mean()
                    .item<double>()
              : NAN);
    }
    previous_state = x;
    previous_step = step;
  }
}

double MeanDistance(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm(2, {1}).mean().item<double>();
}

}  // namespace

absl::Status ApplyPatchAndMethod(const std::string& config_patch,
                                 const std::string& method,
                                 pb::TrainingConfig& c) {
  if (!config_patch.empty()) {
    pb::TrainingConfig patch;
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(config_patch, &patch);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config_patch: not a TrainingConfig in JSON (",
                       std::string(parsed.message()), "): ", config_patch));
    }
    c.MergeFrom(patch);
  }
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

std::string ConfigJson(const pb::TrainingConfig& config) {
  const absl::StatusOr<pb::TrainingConfig> full = core::ExpandPreset(config);
  if (!full.ok()) return "";
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;  // as --config_patch spells them
  if (!google::protobuf::util::MessageToJsonString(*full, &json, options).ok())
    return "";
  return json;
}

std::string RunStem(const std::string& method, const std::string& where,
                    uint64_t seed, size_t seed_count) {
  return seed_count > 1 ? absl::StrCat(method, "_", where, "_s", seed)
                        : absl::StrCat(method, "_", where);
}

absl::StatusOr<std::unique_ptr<core::Trainer>> StartRecordedRun(
    const pb::TrainingConfig& config, const std::string& method,
    const std::string& dataset, const core::RuntimeOptions& runtime,
    RunRecord& r) {
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(config));
  r.method = method;
  r.dataset = dataset;
  r.dimension = static_cast<int>(options.dataset.dimension);
  r.seed = config.seed();
  r.config_json = ConfigJson(config);
  PROXFLOW_ASSIGN_OR_RETURN(auto trainer,
                            core::Trainer::Create(options, runtime));
  r.precision = trainer->precision();
  return trainer;
}

absl::Status WriteCurvePlot(const std::string& dir, const std::string& file,
                            RunRecord& r) {
  image::ChartSeries estimate{{}, {}, {31, 119, 180}};
  image::ChartSeries kinetic{{}, {}, {255, 127, 14}};
  for (const auto& [iteration, values] : r.curve) {
    estimate.x.push_back(static_cast<double>(iteration));
    estimate.y.push_back(std::fabs(values.first));
    kinetic.x.push_back(static_cast<double>(iteration));
    kinetic.y.push_back(values.second);
  }
  return WriteLogChart(dir, file, {estimate, kinetic}, r.curve_plot);
}

absl::Status WriteCoveragePlot(const std::string& dir, const std::string& file,
                               RunRecord& r) {
  image::ChartSeries coverage{{}, {}, {31, 119, 180}};
  image::ChartSeries largest{{}, {}, {255, 127, 14}};
  // Two invisible-width bars at 0 and 10 fix the y range to 0..10 classes.
  image::ChartSeries frame{{}, {}, {255, 255, 255}, /*bars=*/true};
  for (const auto& [iteration, values] : r.evaluations) {
    core::Metrics m{iteration, values};
    const std::optional<double> c = m.Find("class_coverage");
    if (!c.has_value()) continue;
    coverage.x.push_back(static_cast<double>(iteration));
    coverage.y.push_back(*c);
    largest.x.push_back(static_cast<double>(iteration));
    largest.y.push_back(10 * m.Find("largest_class_share").value_or(NAN));
  }
  if (coverage.x.empty()) return absl::OkStatus();
  frame.x = {coverage.x.front(), coverage.x.front()};
  frame.y = {0.0, 10.0};
  PROXFLOW_ASSIGN_OR_RETURN(
      std::string png,
      image::RenderChartPng({frame, coverage, largest}, image::ChartOptions{}));
  PROXFLOW_RETURN_IF_ERROR(
      WriteFileAtomically(absl::StrCat(dir, "/", file), png));
  r.coverage_plot = file;
  return absl::OkStatus();
}

absl::Status WriteOffManifoldDensityPlot(const std::string& dir,
                                         const std::string& file,
                                         const at::Tensor& samples,
                                         RunRecord& r) {
  if (samples.size(1) <= 2) return absl::OkStatus();
  constexpr int kBins = 120;
  constexpr double kRange = 3.0;
  constexpr double kWidth = 2 * kRange / kBins;
  image::ChartSeries generated{{}, {}, {31, 119, 180}, /*bars=*/true};
  image::ChartSeries source{{}, {}, {150, 150, 150}};
  PROXFLOW_RETURN_IF_ERROR(core::Fence("off-manifold density", [&] {
    const at::Tensor v = samples.narrow(1, 2, samples.size(1) - 2)
                             .reshape({-1})
                             .to(at::kDouble)
                             .contiguous();
    const at::Tensor counts = at::histc(v, kBins, -kRange, kRange);
    const double total = static_cast<double>(v.numel());
    for (int b = 0; b < kBins; ++b) {
      const double x = -kRange + (b + 0.5) * kWidth;
      generated.x.push_back(x);
      generated.y.push_back(counts[b].item<double>() / (total * kWidth));
      source.x.push_back(x);
      source.y.push_back(std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI));
    }
  }));
  return WriteLogChart(dir, file, {source, generated}, r.density_plot);
}

bool TrainRecorded(core::Trainer& trainer, const std::string& label,
                   const std::atomic<bool>* cancel, RunRecord& r) {
  const core::TrainOptions& options = trainer.options();
  r.iterations_requested = options.iterations;
  const Stopwatch stopwatch;
  const auto elapsed = [&] { return stopwatch.Seconds(); };
  core::RunHooks hooks;
  hooks.on_log = [&](const core::Metrics& m) {
    const double estimate = m.Find("divergence").value_or(NAN);
    r.curve.push_back(
        {m.iteration, {estimate, m.Find("kinetic_energy").value_or(NAN)}});
    // NaN compares false: a NaN estimate ends the run as non-finite anyway.
    const bool blown = std::fabs(estimate) > kBlowupNats;
    if (blown && r.blowup_iteration < 0) r.blowup_iteration = m.iteration;
    if (!blown) {
      r.sustained_blowup_iteration = -1;
    } else if (r.sustained_blowup_iteration < 0) {
      r.sustained_blowup_iteration = m.iteration;
    }
    const double rate = m.iteration / std::max(elapsed(), 1e-9);
    std::fprintf(
        stderr, "%s iter %lld/%lld %.1f it/s ETA %s%s\n", label.c_str(),
        static_cast<long long>(m.iteration),
        static_cast<long long>(options.iterations), rate,
        FormatDuration((options.iterations - m.iteration) / rate).c_str(),
        FormatMetrics(m).c_str());
  };
  hooks.on_eval = [&](const core::Metrics& m) {
    r.evaluations.emplace_back(m.iteration, m.values);
    const std::optional<double> coverage = m.Find("class_coverage");
    if (coverage.has_value()) {
      std::fprintf(stderr,
                   "%s eval@%lld classes %.0f, largest share %.2f, "
                   "Fréchet %.1f\n",
                   label.c_str(), static_cast<long long>(m.iteration),
                   *coverage, m.Find("largest_class_share").value_or(NAN),
                   m.Find("frechet").value_or(NAN));
      const std::optional<double> live = m.Find("live_class_coverage");
      if (live.has_value()) {
        std::fprintf(stderr,
                     "%s eval@%lld live weights: classes %.0f, largest share "
                     "%.2f, Fréchet %.1f\n",
                     label.c_str(), static_cast<long long>(m.iteration), *live,
                     m.Find("live_largest_class_share").value_or(NAN),
                     m.Find("live_frechet").value_or(NAN));
      }
    }
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
  r.path_kinetic_energy = eval.Find("path_kinetic_energy").value_or(NAN);
  r.hjb = eval.Find("hjb").value_or(NAN);
  r.terminal = eval.Find("terminal").value_or(NAN);
  r.straightness = eval.Find("straightness").value_or(NAN);
  const core::TrainOptions& o = trainer.options();
  std::vector<uint64_t> seeds(n);
  std::iota(seeds.begin(), seeds.end(), uint64_t{1});
  PROXFLOW_ASSIGN_OR_RETURN(core::PointSamples x0, trainer.SourcePoints(seeds));
  PROXFLOW_ASSIGN_OR_RETURN(
      std::vector<core::PointSamples> path,
      trainer.SamplePath(seeds, core::Solver::kEuler, o.flow.steps));
  const core::PointSamples& x1 = path.back();
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
        StepProfile(s.x0, path, o.flow.dt, r);
        return s;
      });
}

}  // namespace proxflow::lab
