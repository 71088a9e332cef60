// What every reproduction study shares: the method ablations, one recorded
// training run with progress on stderr, and the flow measurements common to
// all datasets (evaluation monitors, discretisation drift).
#ifndef PROXFLOW_TOOLS_LAB_REPRO_RUN_H_
#define PROXFLOW_TOOLS_LAB_REPRO_RUN_H_

#include <ATen/core/Tensor.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/trainer.h"
#include "proxflow/v1/config.pb.h"
#include "tools/lab/repro_report.h"

namespace proxflow::lab {

// Merges `config_patch`, a TrainingConfig in JSON (e.g.
// {"generator": {"network": {"width": 64}}}; empty: none), over `config`,
// then applies the ablation `method`: w1w2 as configured, w2 without the
// Lipschitz bound, w1 without kinetic energy (nor HJB/terminal penalties),
// none without either. The ablation wins over the patch (a patch setting the
// PG loss case leaves w1 without kinetic energy). INVALID_ARGUMENT names
// --config_patch and the parse error, or --methods and an unknown method.
absl::Status ApplyPatchAndMethod(const std::string& config_patch,
                                 const std::string& method,
                                 proxflow::v1::TrainingConfig& config);

// The run's config expanded over its preset (every hyperparameter it ran
// with) as compact JSON (proto field names, enum names), for the report.
std::string ConfigJson(const proxflow::v1::TrainingConfig& config);

// The file-name stem of one run: "METHOD_WHERE", plus "_sSEED" when the study
// runs more than one seed (so that seeds do not overwrite each other's plots).
std::string RunStem(const std::string& method, const std::string& where,
                    uint64_t seed, size_t seed_count);

// Resolves `config`, fills the identity of `r` (method, dataset, dimension,
// seed, precision) and creates its trainer with `runtime` (device,
// precision, the class monitor's classifier cache).
absl::StatusOr<std::unique_ptr<core::Trainer>> StartRecordedRun(
    const proxflow::v1::TrainingConfig& config, const std::string& method,
    const std::string& dataset, const core::RuntimeOptions& runtime,
    RunRecord& r);

// Trains to the end (or `*cancel`, or divergence), logging the curve into
// `r.curve` and progress lines prefixed by `label` to stderr; fills outcome,
// reason, iterations and timing. Returns whether the flow can be measured
// (completed or cancelled, not diverged or failed).
bool TrainRecorded(core::Trainer& trainer, const std::string& label,
                   const std::atomic<bool>* cancel, RunRecord& r);

// Writes r.curve as a PNG chart to DIR/FILE and sets r.curve_plot = FILE:
// |critic divergence estimate| (blue) and kinetic energy (orange) against the
// iteration, log10 y axis.
absl::Status WriteCurvePlot(const std::string& dir, const std::string& file,
                            RunRecord& r);

// Writes the class monitor's curve from r.evaluations as a PNG chart to
// DIR/FILE and sets r.coverage_plot = FILE: classes holding half a uniform
// share (blue) and 10 × the largest class's share (orange) against the
// iteration, y from 0 to 10. No-op when no evaluation has class metrics.
absl::Status WriteCoveragePlot(const std::string& dir, const std::string& file,
                               RunRecord& r);

// Writes the density of the generated off-manifold coordinates (columns 2..d−1
// of `samples`, pooled; blue bars, 120 bins on [−3, 3]) beside the source's
// N(0, 1) density (grey line), log10 y axis, to DIR/FILE and sets
// r.density_plot = FILE. No-op for d ≤ 2.
absl::Status WriteOffManifoldDensityPlot(const std::string& dir,
                                         const std::string& file,
                                         const at::Tensor& samples,
                                         RunRecord& r);

struct FlowSamples {
  at::Tensor x0;               // source points, (n, d)
  at::Tensor x1;               // samples at the training dt, (n, d)
  core::PointSamples samples;  // x1 as points
};

// Evaluation monitors (divergence, kinetic energy, HJB, terminal,
// straightness) and the drift at dt/2 and dt/8 against dt from the same n
// seeds; returns the source points and samples.
absl::StatusOr<FlowSamples> MeasureFlow(core::Trainer& trainer, int n,
                                        RunRecord& r);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_REPRO_RUN_H_
