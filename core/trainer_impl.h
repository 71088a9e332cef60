// Internal state of a Trainer, shared by trainer.cc (loop), trainer_eval.cc
// (monitors, sampling) and trainer_checkpoint.cc (save/restore). Not part of
// core's public API.
#ifndef PROXFLOW_CORE_TRAINER_IMPL_H_
#define PROXFLOW_CORE_TRAINER_IMPL_H_

#include <c10/core/Device.h>
#include <torch/optim/adam.h>

#include <memory>
#include <vector>

#include "core/checkpoint_file.h"
#include "core/class_monitor.h"
#include "core/device.h"
#include "core/divergence.h"
#include "core/flow.h"
#include "core/networks.h"
#include "core/random_streams.h"
#include "core/sampling_run.h"
#include "core/trainer.h"

namespace proxflow::core {

// The generator and critic of `options`, uninitialised, on the CPU.
struct Networks {
  FlowNet generator{nullptr};
  Critic critic{nullptr};
};
Networks MakeNetworks(const TrainOptions& options);

// Rows of points, on the CPU.
PointSamples ToPoints(const at::Tensor& x);

// One source draw per seed, each from a generator of its own: a sample's start
// depends on its seed alone, never on the batch it is computed in.
at::Tensor SourceFromSeeds(const SourceOptions& source, int64_t dimension,
                           const std::vector<uint64_t>& seeds);

// Starts SamplingRuns (whose constructor is private to core).
class SamplingRunFactory {
 public:
  // A run of `flow` from one source draw per seed with `solver` and exactly
  // `steps` steps over [0, horizon]. INVALID_ARGUMENT for steps < 1 or no
  // seeds. `flow` must outlive the run.
  static absl::StatusOr<std::unique_ptr<SamplingRun>> Start(
      const Flow& flow, const TrainOptions& options, const c10::Device& device,
      const std::vector<uint64_t>& seeds, Solver solver, int steps);
};

// The one sampling path (Trainer::Sample, FlowModel::Sample, the sampling
// service): a SamplingRun taken to its last step. With `states`, also the
// state after every step (steps entries, the last one the result).
absl::StatusOr<PointSamples> SampleFlow(
    const Flow& flow, const TrainOptions& options, const c10::Device& device,
    const std::vector<uint64_t>& seeds, Solver solver, int steps,
    std::vector<PointSamples>* states = nullptr);

// A checked format-2 checkpoint (views into bytes that must outlive it) and
// its stored config, resolved. INVALID_ARGUMENT for anything else.
// The checkpoint tensors' prefix of the generator's moving average (present
// when the stored config's generator.ema_decay > 0): what FlowModel samples.
inline constexpr char kAveragePrefix[] = "generator_ema";

struct StoredCheckpoint {
  CheckpointFileView file;
  TrainOptions options;
};
absl::StatusOr<StoredCheckpoint> ReadCheckpoint(absl::string_view bytes);

// Copies the file's tensors "<prefix>/<name>" into every parameter and buffer
// of `module` (on any device) after checking dtype and shape; with `exact`,
// a tensor under the prefix that the module lacks is refused too.
// INVALID_ARGUMENT starting with `context` and naming the tensor otherwise.
absl::Status LoadModule(const CheckpointFileView& file,
                        absl::string_view prefix, torch::nn::Module& module,
                        absl::string_view context, bool exact);

struct Trainer::Impl {
  Impl(const TrainOptions& o, c10::Device d);

  // A batch of n source samples (pool without replacement, or fresh draws) from
  // `gen`.
  at::Tensor SourceBatch(int64_t n, at::Generator& gen);
  // A batch of n target samples, distinct pool indices drawn with `gen`.
  at::Tensor DataBatch(int64_t n, at::Generator& gen);
  // How many data-parallel shards a training step cuts its batch into: one per
  // LibTorch thread on the CPU (at most one per row), one on a device. A
  // step's bits depend on this count (core/sharded_backward.h).
  int64_t Shards() const;
  // x_T of the training flow (Euler, training dt) without graph to θ, the
  // rows cut into Shards() tasks (rows are independent).
  at::Tensor Generate(const at::Tensor& x0);
  // x_T for each of `steps` critic steps (`batch` rows each, generated without
  // a graph to θ), from source batches drawn in step order.
  std::vector<at::Tensor> GenerateCriticBatches(int steps, int64_t batch);
  // One critic step (options.critic) on generated x_T over `shards` shards;
  // sets m.values to its metrics.
  void CriticStep(const at::Tensor& x_T, int64_t shards, Metrics& m);
  // The generator step's rollouts (with graph) from x0, one per shard.
  std::vector<Rollout> Rollouts(const at::Tensor& x0, int64_t shards);
  // One generator step from x0 over Shards() shards, on `rollouts` when given
  // (one per shard) or on rollouts it computes; appends its metrics to `m`.
  void GeneratorStep(const at::Tensor& x0, std::vector<Rollout> rollouts,
                     Metrics& m);
  // The generator step's rollout options.
  RolloutOptions TrainingRollout() const;
  // The class monitor's metrics of `measured` (builds the monitor on first
  // use); empty when the monitor is unavailable for this dataset.
  absl::StatusOr<std::vector<std::pair<std::string, double>>> ClassMetrics(
      const Flow& measured);
  // The flow that evaluations and samples integrate: the weights' moving
  // average when generator.ema_decay > 0, else the trained flow itself.
  const Flow& SamplingFlow() const;
  // Builds the moving average (equal to the live weights) when the options
  // ask for one; called once the live weights are final (initialised, or
  // loaded from init_from).
  void StartAverage();

  TrainOptions options;
  c10::Device device;
  Precision precision = Precision::kFloat32;
  RandomStreams rng;
  at::Tensor target_pool;  // (P, d) on device
  at::Tensor source_pool;  // (P, d) on device, or undefined for fresh draws
  FlowNet generator{nullptr};
  Critic critic{nullptr};
  std::unique_ptr<Flow> flow;
  // generator.ema_decay > 0: the generator's moving average (same network,
  // no gradients) and its flow; undefined / null otherwise.
  FlowNet average{nullptr};
  std::unique_ptr<Flow> average_flow;
  Divergence divergence;
  std::unique_ptr<torch::optim::Adam> generator_optimizer;
  std::unique_ptr<torch::optim::Adam> critic_optimizer;
  int64_t iteration = 0;
  std::vector<Metrics> history;
  // MNIST runs: the class-coverage monitor, built at the first evaluation
  // (its classifier costs seconds; runs that never evaluate never pay).
  std::string classifier_cache_dir;
  int classifier_epochs = 4;
  std::unique_ptr<ClassMonitor> class_monitor;
  bool class_monitor_unavailable = false;  // Create failed: no class metrics
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_TRAINER_IMPL_H_
