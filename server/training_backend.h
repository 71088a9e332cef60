// TrainingBackend: how the job manager runs training, behind an interface so
// that the server layer (and its tests) never link LibTorch. The production
// implementation wraps core::Trainer (core_backend.h); tests inject fakes.
#ifndef PROXFLOW_SERVER_TRAINING_BACKEND_H_
#define PROXFLOW_SERVER_TRAINING_BACKEND_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/options.h"
#include "core/trainer.h"

namespace proxflow::server {

// One training run. Driven by a single thread; `cancel` may be set from any.
class TrainingRun {
 public:
  virtual ~TrainingRun() = default;
  // Runs to the configured iteration count, cancellation or divergence, with
  // the semantics of core::Trainer::Run.
  virtual absl::StatusOr<core::RunResult> Run(
      const core::RunHooks& hooks, const std::atomic<bool>* cancel) = 0;
  // The run's whole state, as core::Trainer::SerializeCheckpoint.
  virtual absl::StatusOr<std::string> SerializeCheckpoint() const = 0;
  virtual int64_t iteration() const = 0;
  virtual std::string device() const = 0;
};

// Thread-safe factory of runs.
class TrainingBackend {
 public:
  virtual ~TrainingBackend() = default;
  // A fresh run of `options`; with `init_checkpoint` (checkpoint bytes), its
  // networks start from those weights (core::Trainer::CreateFromWeights).
  virtual absl::StatusOr<std::unique_ptr<TrainingRun>> Start(
      const core::TrainOptions& options, const core::RuntimeOptions& runtime,
      absl::string_view init_checkpoint) = 0;
  // A run restored from checkpoint bytes; INVALID_ARGUMENT when they are not a
  // checkpoint.
  virtual absl::StatusOr<std::unique_ptr<TrainingRun>> Resume(
      absl::string_view checkpoint, const core::RuntimeOptions& runtime) = 0;
  // What checkpoint bytes hold, as core::InspectCheckpoint: INVALID_ARGUMENT
  // when they are not a loadable proxflow checkpoint.
  virtual absl::StatusOr<core::CheckpointSummary> Inspect(
      absl::string_view checkpoint) = 0;
  // The LibTorch version runs are built with ("" without LibTorch).
  virtual std::string LibTorchVersion() const = 0;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_TRAINING_BACKEND_H_
