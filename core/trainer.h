// Trainer: the W1⊕W2 proximal training loop of ALGORITHM.md §4 over one run.
//
// Torch-free header (pimpl), so that server code can own trainers without
// including LibTorch. Every method fences LibTorch exceptions into
// absl::Status. A Trainer is not thread-safe: one thread drives it; `cancel`
// flags may be set from any thread.
#ifndef PROXFLOW_CORE_TRAINER_H_
#define PROXFLOW_CORE_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/options.h"

namespace proxflow::core {

// Where a run executes and how. Process-wide thread settings live in device.h.
struct RuntimeOptions {
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
  // The file of a DATASET_KIND_UPLOADED dataset (IDX or float32 array; see
  // data_file.h). The server maps dataset.uploaded_name to it.
  std::string uploaded_dataset_path;
  // auto | fp32 | bf16: arithmetic of the network bodies (core/device.h).
  std::string precision = "auto";
  // The class-coverage monitor of MNIST runs (core/class_monitor.h): where
  // its classifier's weights are cached (empty: each run trains it, about
  // 25 s on one core) and the classifier's training epochs (the project's
  // classifier: 4).
  std::string classifier_cache_dir = "";
  int classifier_epochs = 4;
  // The MNIST directory of DATASET_KIND_MNIST runs; when set it replaces
  // dataset.mnist_dir (the server maps MNIST to its --datasets_root, so a
  // remote config never names a server path). A run whose config and runtime
  // both leave it empty fails with FAILED_PRECONDITION.
  std::string mnist_dir = "";
};

// Named scalar metrics at one iteration, in a stable order.
struct Metrics {
  int64_t iteration = 0;
  std::vector<std::pair<std::string, double>> values;

  std::optional<double> Find(absl::string_view name) const;
};

enum class RunOutcome { kCompleted, kCancelled, kDiverged };

struct RunResult {
  RunOutcome outcome = RunOutcome::kCompleted;
  int64_t iteration = 0;  // iterations completed
  std::string reason;  // "diverged at iteration k: <metric> is nan", or empty
};

// Callbacks of Run(), all invoked on the thread that called Run(), between
// iterations.
struct RunHooks {
  // Every options.log_interval iterations, with that iteration's metrics.
  std::function<void(const Metrics&)> on_log;
  // Every options.eval_interval iterations (when > 0), with the evaluation
  // metrics.
  std::function<void(const Metrics&)> on_eval;
  // Every options.checkpoint_interval iterations (when > 0), and on
  // cancellation. A non-OK status stops Run() with that status.
  std::function<absl::Status(int64_t iteration)> on_checkpoint;
};

// Generated points: n rows of `dimension` floats, row-major.
struct PointSamples {
  int64_t n = 0;
  int64_t dimension = 0;
  std::vector<float> values;
};

// What a checkpoint holds, read without building a run (no dataset needed).
struct CheckpointSummary {
  int64_t iteration = 0;
  std::string torch_version;            // LibTorch that wrote it
  proxflow::v1::TrainingConfig config;  // the run's resolved config
  std::vector<Metrics> history;         // evaluation metrics, oldest first
};

// Reads a SerializeCheckpoint() file and loads its networks into freshly built
// networks of the stored config, on the CPU: INVALID_ARGUMENT when the bytes
// are not a loadable proxflow checkpoint of a known version.
absl::StatusOr<CheckpointSummary> InspectCheckpoint(absl::string_view bytes);

class Trainer {
 public:
  // Builds networks (Glorot-normal from the seed), optimisers and data pools.
  // Errors: device resolution, dataset loading (e.g. MNIST files), or INTERNAL
  // from LibTorch.
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(
      const TrainOptions& options, const RuntimeOptions& runtime);
  // Create(), then the generator and critic weights of `init_checkpoint` (a
  // SerializeCheckpoint() file) replace the random ones: fine-tuning.
  // INVALID_ARGUMENT when it is not a checkpoint or its networks do not have
  // this config's shapes.
  static absl::StatusOr<std::unique_ptr<Trainer>> CreateFromWeights(
      const TrainOptions& options, const RuntimeOptions& runtime,
      absl::string_view init_checkpoint);

  // Restores a run from SerializeCheckpoint() bytes. Continuing it yields
  // exactly the iterations an uninterrupted run would have produced (bitwise on
  // CPU at a fixed thread count). INVALID_ARGUMENT when the bytes are not a
  // proxflow checkpoint of a known version.
  static absl::StatusOr<std::unique_ptr<Trainer>> FromCheckpoint(
      absl::string_view bytes, const RuntimeOptions& runtime);

  // Restores a run from a format-1 file (a LibTorch archive, written before
  // format 2), on the CPU. This runs LibTorch's TorchScript importer on the
  // bytes, which crashes on crafted files: call it only on files you trust (the
  // offline `proxflow-lab convert-checkpoint`); the server never does.
  static absl::StatusOr<std::unique_ptr<Trainer>> FromLegacyCheckpoint(
      absl::string_view bytes, const RuntimeOptions& runtime);

  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // One iteration: critic.steps_per_iteration critic steps, then one generator
  // step. Returns the metrics of the iteration (critic_loss, divergence,
  // gradient_penalty, generator_loss, kinetic_energy, and hjb/terminal when
  // they are loss terms).
  absl::StatusOr<Metrics> Step();

  // Monitors on a fresh evaluation batch (its own random stream; training is
  // unaffected): divergence |E φ(x_T) − Λ|, the same with dt/2, kinetic_energy,
  // hjb, terminal, straightness, drift_half_dt (‖x_T(dt/2) − x_T(dt)‖ / ‖x_T −
  // x_0‖), off_manifold_std; on MNIST also class_coverage,
  // largest_class_share, class_entropy and frechet of a fixed set of
  // eval_batch_size samples (core/class_monitor.h; absent when the MNIST
  // directory holds fewer than 7,000 images).
  absl::StatusOr<Metrics> Evaluate();

  // Iterates until options.iterations, `*cancel` (checked every iteration), or
  // a non-finite metric, which ends the run with outcome kDiverged: a result,
  // not an error.
  absl::StatusOr<RunResult> Run(const RunHooks& hooks,
                                const std::atomic<bool>* cancel);

  // The whole run state in one versioned file: networks, optimisers, RNG
  // states, iteration, resolved config and evaluation history.
  absl::StatusOr<std::string> SerializeCheckpoint() const;

  // Integrates the learned flow from one source draw per seed (each seed alone
  // determines its starting point) with `solver` and exactly `steps` steps over
  // [0, T].
  absl::StatusOr<PointSamples> Sample(const std::vector<uint64_t>& seeds,
                                      Solver solver, int steps);

  // The baseline of `proxflow-lab bench sample`: the same integration as
  // Sample() by LibTorch's batched kernels over the whole batch at once (no
  // rowwise kernels, padding or chunking). Its values agree with Sample()'s to
  // float rounding, without Sample()'s batch invariance.
  absl::StatusOr<PointSamples> SampleBatchedBaseline(
      const std::vector<uint64_t>& seeds, Solver solver, int steps);

  // Sample() keeping the state after every step: `steps` entries, the last
  // one what Sample() returns (the start is SourcePoints()).
  absl::StatusOr<std::vector<PointSamples>> SamplePath(
      const std::vector<uint64_t>& seeds, Solver solver, int steps);

  // The starting points Sample() uses for `seeds` (one source draw per seed).
  absl::StatusOr<PointSamples> SourcePoints(const std::vector<uint64_t>& seeds);

  // Draws n points from the run's target pool (evaluation stream), for plots
  // and metrics.
  absl::StatusOr<PointSamples> TargetSamples(int64_t n);

  int64_t iteration() const;
  const TrainOptions& options() const;
  std::string device() const;
  std::string precision() const;  // "fp32" | "bf16": the network bodies'

  const std::vector<Metrics>& history() const;  // evaluation metrics so far

 private:
  struct Impl;
  explicit Trainer(std::unique_ptr<Impl> impl);
  // Builds an Impl with initialised networks, pools and optimisers (no
  // checkpoint applied).
  static absl::StatusOr<std::unique_ptr<Impl>> BuildImpl(
      const TrainOptions& options, const RuntimeOptions& runtime);
  std::unique_ptr<Impl> impl_;
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_TRAINER_H_
