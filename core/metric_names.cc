#include "core/metric_names.h"

namespace proxflow::core {

std::vector<std::string> EvaluationMetricNames(const TrainOptions& o) {
  const bool potential = o.generator.form == GeneratorForm::kPotential;
  std::vector<std::string> names = {"divergence", "divergence_half_dt",
                                    "kinetic_energy", "path_kinetic_energy"};
  if (potential) names.push_back("hjb");
  names.push_back("straightness");
  names.push_back("drift_half_dt");
  if (o.dataset.kind == DatasetKind::kToy) names.push_back("sinkhorn");
  if (o.dataset.kind == DatasetKind::kToy && o.dataset.dimension > 2)
    names.push_back("off_manifold_std");
  if (potential) names.push_back("terminal");
  constexpr const char* kClassMetrics[] = {
      "class_coverage", "largest_class_share", "class_entropy", "frechet"};
  if (o.dataset.kind == DatasetKind::kMnist) {
    for (const char* name : kClassMetrics) names.push_back(name);
  }
  // generator.ema_decay > 0: the same fidelity of the live weights beside
  // the average's (core/weight_average.h).
  if (o.generator.ema_decay > 0) {
    if (o.dataset.kind == DatasetKind::kToy) names.push_back("live_sinkhorn");
    if (o.dataset.kind == DatasetKind::kMnist) {
      for (const char* name : kClassMetrics)
        names.push_back(std::string("live_") + name);
    }
  }
  return names;
}

}  // namespace proxflow::core
