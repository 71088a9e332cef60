// Records of reproduction runs and their report files (report.json, report.md).
#ifndef PROXFLOW_TOOLS_LAB_REPRO_REPORT_H_
#define PROXFLOW_TOOLS_LAB_REPRO_REPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace proxflow::lab {

// A critic divergence estimate (KL Donsker–Varadhan, in nats) beyond this
// claims likelihood ratios of e^100 between generated and data points: the
// unbounded f-divergence of mutually singular measures, not a finite
// divergence being learned. Healthy w1/w1w2 runs stay below 20 (toy: < 1).
inline constexpr double kBlowupNats = 100.0;

// One training run of an ablation. Metrics that were not measured (e.g. after
// divergence) are NaN and appear as null / "—".
struct RunRecord {
  std::string method;  // w1w2 | w2 | w1 | none
  std::string dataset;
  int dimension = 0;
  uint64_t seed = 0;
  int64_t iterations_requested = 0;
  int64_t iterations_completed = 0;
  std::string outcome;  // completed | diverged | cancelled | failed
  std::string reason;
  // The first logged iteration whose critic divergence estimate exceeded
  // kBlowupNats in magnitude; -1 if none did. A run can blow up without
  // reaching NaN in float32 (ALGORITHM.md §6 reports NaN for W2-only).
  int64_t blowup_iteration = -1;
  // The first logged iteration of the final stretch of estimates past
  // kBlowupNats (past it from there to the last log); -1 if the last logged
  // estimate was below it. A blow-up that recovers (a fast critic before its
  // Lipschitz penalty takes hold) is not a divergence.
  int64_t sustained_blowup_iteration = -1;
  // Diverged: a non-finite loss stopped the run (outcome "diverged"), or the
  // critic estimate blew up past kBlowupNats for good (the run went on,
  // finite).
  bool Diverged() const {
    return outcome == "diverged" || sustained_blowup_iteration >= 0;
  }
  // The iteration it diverged at (the earlier of the two signs), -1 if it
  // did not.
  int64_t DivergedAt() const;
  double divergence = NAN;
  double kinetic_energy = NAN;       // in the training's convention
  double path_kinetic_energy = NAN;  // ½∫E|v|²dt along the Euler paths
  double hjb = NAN;
  double terminal = NAN;
  double straightness = NAN;
  // Along the Euler paths at the training dt: mean speed per step, and the
  // mean turn (degrees) between consecutive steps (S − 1 values).
  std::vector<double> step_speed;
  std::vector<double> step_turn_degrees;
  double drift_dt2 = NAN;
  double drift_dt8 = NAN;
  double sinkhorn = NAN;  // first two coordinates, 5,000 vs 5,000 by default
  double off_manifold_std = NAN;
  // MNIST (repro mnist): classifier-feature Fréchet distance and KID against
  // the held-out pool, classes with >= 10 % of a uniform share, mean top-class
  // probability, predicted class counts.
  double frechet = NAN;
  double kid = NAN;
  int classes_covered = -1;
  double confidence = NAN;
  std::vector<int64_t> class_counts;
  std::string precision;  // of the network bodies: fp32 | bf16
  // The run's TrainingConfig as JSON (written raw into report.json; empty:
  // null), so that a report says exactly what ran.
  std::string config_json;
  double wall_seconds = 0;
  double iterations_per_second = 0;
  std::string plot;  // file name of the samples plot, relative to the report
  std::string curve_plot;    // loss curves (PNG), relative to the report
  std::string density_plot;  // off-manifold density (PNG), d > 2 only
  // Logged training curve: (iteration, critic divergence estimate, kinetic
  // energy).
  std::vector<std::pair<int64_t, std::pair<double, double>>> curve;
  // The trainer's evaluations during training (--eval_interval; MNIST: the
  // class monitor's class_coverage, largest_class_share, class_entropy and
  // frechet, core/class_monitor.h), in iteration order.
  std::vector<std::pair<int64_t, std::vector<std::pair<std::string, double>>>>
      evaluations;
  std::string coverage_plot;  // class coverage while training (PNG)
};

struct Report {
  std::string title;
  std::string command_line;
  std::vector<RunRecord> runs;
  std::vector<std::string> notes;  // paragraphs under the table (references)
  bool mnist = false;  // the MNIST study's table (sample quality columns)
};

// Writes DIR/report.json and DIR/report.md atomically.
absl::Status WriteReport(const std::string& dir, const Report& report);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_REPRO_REPORT_H_
