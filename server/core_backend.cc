#include "server/core_backend.h"

#include <torch/version.h>

#include <utility>

#include "core/base/status_macros.h"

namespace proxflow::server {
namespace {

class CoreRun : public TrainingRun {
 public:
  explicit CoreRun(std::unique_ptr<core::Trainer> trainer)
      : trainer_(std::move(trainer)) {}

  absl::StatusOr<core::RunResult> Run(
      const core::RunHooks& hooks, const std::atomic<bool>* cancel) override {
    return trainer_->Run(hooks, cancel);
  }
  absl::StatusOr<std::string> SerializeCheckpoint() const override {
    return trainer_->SerializeCheckpoint();
  }
  int64_t iteration() const override { return trainer_->iteration(); }
  std::string device() const override { return trainer_->device(); }

 private:
  std::unique_ptr<core::Trainer> trainer_;
};

class CoreBackend : public TrainingBackend {
 public:
  absl::StatusOr<std::unique_ptr<TrainingRun>> Start(
      const core::TrainOptions& options, const core::RuntimeOptions& runtime,
      absl::string_view init_checkpoint) override {
    PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<core::Trainer> trainer,
                              init_checkpoint.empty()
                                  ? core::Trainer::Create(options, runtime)
                                  : core::Trainer::CreateFromWeights(
                                        options, runtime, init_checkpoint));
    return std::make_unique<CoreRun>(std::move(trainer));
  }
  absl::StatusOr<std::unique_ptr<TrainingRun>> Resume(
      absl::string_view checkpoint,
      const core::RuntimeOptions& runtime) override {
    PROXFLOW_ASSIGN_OR_RETURN(
        std::unique_ptr<core::Trainer> trainer,
        core::Trainer::FromCheckpoint(checkpoint, runtime));
    return std::make_unique<CoreRun>(std::move(trainer));
  }
  absl::StatusOr<core::CheckpointSummary> Inspect(
      absl::string_view checkpoint) override {
    return core::InspectCheckpoint(checkpoint);
  }
  std::string LibTorchVersion() const override { return TORCH_VERSION; }
};

}  // namespace

std::unique_ptr<TrainingBackend> MakeCoreTrainingBackend() {
  return std::make_unique<CoreBackend>();
}

}  // namespace proxflow::server
