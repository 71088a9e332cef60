// TrainOptions: a fully resolved, checked training configuration.
//
// Produced only by ResolveTrainOptions (options_resolver.h). Every field has a
// value that passed validation; code below the resolver never re-checks ranges.
// Plain value type.
#ifndef PROXFLOW_CORE_OPTIONS_H_
#define PROXFLOW_CORE_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proxflow/v1/config.pb.h"

namespace proxflow::core {

enum class DivergenceKind {
  kKlDv,
  kW1,
  kKlLegendre,
  kReverseKl,
  kAlpha,
  kJensenShannon
};
enum class LipschitzMode {
  kOneSidedPenalty,
  kTwoSidedPenalty,
  kSpectralNorm,
  kNone
};
enum class LossCase { kOt, kNoOt, kPg, kOc };
enum class Solver { kEuler, kHeun, kMidpoint, kRk4 };
enum class Activation { kTanh, kRelu, kSoftplus };
enum class Architecture { kMlp, kConv };
enum class GeneratorForm { kPotential, kDirectVelocity };
enum class KineticEnergyPoint { kDetachedPostStep, kTrajectory };
enum class DatasetKind { kToy, kStudentT, kMnist, kUploaded };
enum class ToyShape {
  kPinwheel,
  kMoons,
  kEightGaussians,
  kCheckerboard,
  kSwissroll,
  kCircles,
  kTwoSpirals
};
enum class SourceKind { kGaussian, kUniform };

struct NetworkOptions {
  Architecture architecture = Architecture::kMlp;
  int depth = 0;  // hidden layers
  int width = 0;  // units per hidden layer
  Activation activation = Activation::kTanh;
  // Potentials only (generator.quadratic): U += ½(a₀ + a₁t)‖x‖², a₀ and a₁
  // learned, zero at start.
  bool quadratic = false;
};

struct DatasetOptions {
  DatasetKind kind = DatasetKind::kToy;
  ToyShape toy = ToyShape::kPinwheel;
  int dimension = 2;
  int pool_size = 0;
  double student_t_dof = 0;
  // In-process callers only (the lab, benches): the server rejects a config
  // that names it and supplies RuntimeOptions::mnist_dir instead.
  std::string mnist_dir;
  std::vector<int> mnist_labels;  // empty: all digits
  int subset_size = 0;
  // kUploaded: the DatasetService name. The file itself reaches the trainer
  // through RuntimeOptions::uploaded_dataset_path (the server owns storage).
  std::string uploaded_name;
};

struct SourceOptions {
  SourceKind kind = SourceKind::kGaussian;
  double low = 0;
  double high = 1;
  int pool_size = 0;  // 0: fresh draws every batch
};

struct CriticOptions {
  NetworkOptions network;
  DivergenceKind divergence = DivergenceKind::kKlDv;
  double alpha = 2;
  LipschitzMode lipschitz_mode = LipschitzMode::kOneSidedPenalty;
  double lipschitz_constant = 1;
  double penalty_weight = 0.1;
  int steps_per_iteration = 5;
  double learning_rate = 0;
};

struct GeneratorOptions {
  NetworkOptions network;
  GeneratorForm form = GeneratorForm::kPotential;
  double learning_rate = 0;
  // Decay of the weights' moving average that samples and evaluations use
  // (core/weight_average.h); 0: none, the live weights are sampled.
  double ema_decay = 0;
};

struct FlowOptions {
  double horizon = 1;
  double dt = 0.2;
  int steps = 5;  // horizon / dt, an exact integer
  double lambda = 0.5;
  LossCase loss_case = LossCase::kOt;
  double hjb_weight = 0;
  double terminal_weight = 0;
  KineticEnergyPoint kinetic_energy_point =
      KineticEnergyPoint::kDetachedPostStep;
  Solver sample_solver = Solver::kEuler;
};

// Registry retention and ranking of a job's checkpoints.
struct RegistryOptions {
  int keep_latest = 3;
  int keep_best = 1;
  std::string best_metric = "sinkhorn";
  bool minimize = true;
};

struct TrainOptions {
  std::string preset;
  std::string model;
  int64_t iterations = 0;
  int batch_size = 0;
  uint64_t seed = 0;
  DatasetOptions dataset;
  SourceOptions source;
  GeneratorOptions generator;
  CriticOptions critic;
  FlowOptions flow;
  double beta1 = 0.5;
  double beta2 = 0.9;
  int64_t log_interval = 1;
  int64_t eval_interval = 0;
  int eval_batch_size = 0;
  int64_t checkpoint_interval = 0;
  RegistryOptions registry;
  // The fully expanded config (preset applied, every field set) these options
  // came from. Stored in checkpoints so that a checkpoint is self-describing.
  proxflow::v1::TrainingConfig resolved_config;
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_OPTIONS_H_
