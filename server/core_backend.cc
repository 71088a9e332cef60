#include "server/core_backend.h"

#include <utility>

#include "core/base/status_macros.h"
#include "core/device.h"
#include "core/flow_model.h"
#include "core/sampling_run.h"

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
  std::string LibTorchVersion() const override { return core::TorchVersion(); }
};

class CoreIntegration : public IntegrationRun {
 public:
  explicit CoreIntegration(std::unique_ptr<core::SamplingRun> run)
      : run_(std::move(run)) {}
  absl::Status Step() override { return run_->Step(); }
  absl::Status KeepRows(const std::vector<int64_t>& rows) override {
    return run_->KeepRows(rows);
  }
  absl::StatusOr<core::PointSamples> Points() const override {
    return run_->Points();
  }

 private:
  std::unique_ptr<core::SamplingRun> run_;
};

class CoreFlow : public LoadedFlow {
 public:
  explicit CoreFlow(std::unique_ptr<core::FlowModel> model)
      : model_(std::move(model)), bytes_(model_->parameter_bytes()) {}
  absl::StatusOr<std::unique_ptr<IntegrationRun>> Start(
      const std::vector<uint64_t>& seeds, core::Solver solver,
      int steps) override {
    PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<core::SamplingRun> run,
                              model_->StartSampling(seeds, solver, steps));
    return std::make_unique<CoreIntegration>(std::move(run));
  }
  int64_t parameter_bytes() const override { return bytes_; }
  std::string device() const override { return model_->device(); }

 private:
  std::unique_ptr<core::FlowModel> model_;
  int64_t bytes_;
};

class CoreSamplingBackend : public SamplingBackend {
 public:
  absl::StatusOr<std::unique_ptr<LoadedFlow>> Load(
      absl::string_view checkpoint, const std::string& device) override {
    PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<core::FlowModel> model,
                              core::FlowModel::Load(checkpoint, device));
    return std::make_unique<CoreFlow>(std::move(model));
  }
};

}  // namespace

std::unique_ptr<TrainingBackend> MakeCoreTrainingBackend() {
  return std::make_unique<CoreBackend>();
}

std::unique_ptr<SamplingBackend> MakeCoreSamplingBackend() {
  return std::make_unique<CoreSamplingBackend>();
}

}  // namespace proxflow::server
