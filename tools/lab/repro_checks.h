// The paper's checks (ALGORITHM.md §6–7, issue "Reproduction lab" §4),
// evaluated on the runs of a report, and their summary across seeds.
// Torch-free: part of the report library. Pure functions; thread-compatible.
#ifndef PROXFLOW_TOOLS_LAB_REPRO_CHECKS_H_
#define PROXFLOW_TOOLS_LAB_REPRO_CHECKS_H_

#include <string>
#include <vector>

#include "tools/lab/repro_report.h"
#include "tools/lab/spread.h"

namespace proxflow::lab {

// The straightness the issue asks of w1w2 (Σ‖x_T−x_0‖ / Σ path length).
inline constexpr double kStraightnessTarget = 0.98;

// The paper's Sinkhorn divergence of W1⊕W2 on the pinwheel at dimension d
// (ALGORITHM.md §6: 8.0e-3, 1.0e-2, 1.6e-2 at d = 2, 7, 12); NaN for other
// data or dimensions.
double PaperSinkhorn(const std::string& dataset, int dimension);

// One check at one dimension (0: the MNIST study), counted over the runs
// (seeds) it applies to. `passed` of `total` runs met it; a check with
// total == 0 is not emitted.
struct CheckResult {
  std::string check;  // e.g. "w1w2 Sinkhorn <= paper"
  int dimension = 0;
  int passed = 0;
  int total = 0;
  std::string detail;  // the measured values, e.g. "8.6e-3 / 1.3e-2 vs 1.6e-2"
  bool Met() const { return total > 0 && passed == total; }
};

// Every check the report's runs allow: w1w2 finite; w1w2 Sinkhorn at or
// below the paper's (pinwheel); w2 (and none) diverged at d > 2 and on MNIST;
// w1w2 straightness >= kStraightnessTarget (manifold studies); w1w2 drift at
// dt/8 below w1's and kinetic energy below w1's (runs paired by seed).
// Cancelled or failed runs are left out.
std::vector<CheckResult> EvaluateChecks(const Report& report);

// One (method, dimension) group of runs across seeds.
struct SeedSummary {
  std::string method;
  int dimension = 0;
  int runs = 0;
  int diverged = 0;
  Spread sinkhorn, straightness, drift_dt8, kinetic_energy, path_kinetic_energy,
      off_manifold_std, frechet, kid, classes_covered;
};

// Groups in the order they first appear; only groups of two or more runs.
std::vector<SeedSummary> SummariseSeeds(const Report& report);

}  // namespace proxflow::lab

#endif  // PROXFLOW_TOOLS_LAB_REPRO_CHECKS_H_
