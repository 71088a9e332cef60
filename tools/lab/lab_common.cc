#include "tools/lab/lab_common.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/file_util.h"
#include "core/base/proc_status.h"
#include "core/base/status_macros.h"
#include "core/image/scatter_plot.h"
#include "core/options_resolver.h"

namespace proxflow::lab {

std::string FormatMetrics(const core::Metrics& m) {
  std::string out;
  for (const auto& [name, value] : m.values)
    absl::StrAppendFormat(&out, " %s=%.4g", name, value);
  return out;
}

at::Tensor ToTensor(const core::PointSamples& p) {
  return at::from_blob(const_cast<float*>(p.values.data()), {p.n, p.dimension},
                       at::kFloat)
      .clone();
}

std::vector<float> FirstTwo(const core::PointSamples& p) {
  std::vector<float> xy;
  xy.reserve(p.n * 2);
  for (int64_t i = 0; i < p.n; ++i) {
    xy.push_back(p.values[i * p.dimension]);
    xy.push_back(p.values[i * p.dimension + 1]);
  }
  return xy;
}

absl::Status WriteScatterPlot(const std::string& path,
                              const core::PointSamples& target,
                              const core::PointSamples& generated) {
  image::PointSeries target_series{FirstTwo(target), {190, 190, 190}};
  image::PointSeries sample_series{FirstTwo(generated), {31, 119, 180}};
  image::PlotOptions options;
  // Frame on the target so that a diverged or spread-out flow does not shrink
  // the picture.
  for (float v : target_series.xy)
    options.half_range = std::max(options.half_range, std::abs(v));
  options.half_range *= 1.15f;
  PROXFLOW_ASSIGN_OR_RETURN(
      std::string png,
      image::RenderScatterPng({target_series, sample_series}, options));
  return WriteFileAtomically(path, png);
}

double PeakResidentMiB() {
  return static_cast<double>(ProcStatusKib(0, "VmHWM")) / 1024.0;
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

absl::StatusOr<std::unique_ptr<core::Trainer>> BenchTrainer(
    const std::string& preset, const std::string& mnist_dir,
    const std::string& device, const std::string& precision) {
  proxflow::v1::TrainingConfig config;
  config.set_preset(preset);
  config.set_eval_interval(0);
  config.set_checkpoint_interval(0);
  if (!mnist_dir.empty()) config.mutable_dataset()->set_mnist_dir(mnist_dir);
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(config));
  return core::Trainer::Create(options, {device, "", precision});
}

}  // namespace proxflow::lab
