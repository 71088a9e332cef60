// The names of the metrics a training job's evaluations log (Trainer::Evaluate
// in core/trainer_eval.cc), known from its options alone: what the registry
// can rank versions by (registry.best_metric), checked at submission.
// Torch-free (the server's resolver uses it); thread-safe.
#ifndef PROXFLOW_CORE_METRIC_NAMES_H_
#define PROXFLOW_CORE_METRIC_NAMES_H_

#include <string>
#include <vector>

#include "core/options.h"

namespace proxflow::core {

// In Evaluate's order. MNIST runs list the class monitor's metrics
// (core/class_monitor.h); a run whose MNIST directory is too small for the
// monitor's held-out reference (fewer than 7,000 images) logs them not.
std::vector<std::string> EvaluationMetricNames(const TrainOptions& options);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_METRIC_NAMES_H_
