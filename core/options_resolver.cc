#include "core/options_resolver.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/error_text.h"
#include "core/base/resource_name.h"
#include "core/base/status_macros.h"
#include "core/metric_names.h"
#include "core/presets.h"

namespace proxflow::core {
namespace {

namespace pb = ::proxflow::v1;

absl::Status Invalid(absl::string_view field, absl::string_view requirement,
                     absl::string_view got) {
  return absl::InvalidArgumentError(
      absl::StrCat("training.", field, " ", requirement, ", got ", got));
}

template <typename T>
absl::Status CheckRange(absl::string_view field, T value, T lo, T hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return Invalid(field, absl::StrCat("must be in [", lo, ", ", hi, "]"),
                 absl::StrCat(value));
}

// Requires a finite value in the open interval (lo, +inf) or [lo, +inf).
absl::Status CheckLowerBound(absl::string_view field, double value, double lo,
                             bool inclusive) {
  const bool ok =
      std::isfinite(value) && (inclusive ? value >= lo : value > lo);
  if (ok) return absl::OkStatus();
  return Invalid(
      field, absl::StrCat("must be finite and ", inclusive ? ">= " : "> ", lo),
      absl::StrCat(value));
}

// Maps a proto enum value to its core counterpart via `table`; rejects
// UNSPECIFIED (0) and values this build does not know.
template <typename Core, typename Proto, size_t N>
absl::StatusOr<Core> MapEnum(absl::string_view field, Proto value,
                             const std::pair<Proto, Core> (&table)[N],
                             const std::string& (*name)(Proto)) {
  for (const auto& [p, c] : table) {
    if (p == value) return c;
  }
  if (static_cast<int>(value) == 0) {
    return Invalid(field, "must be set", name(value));
  }
  return Invalid(field, "has an unknown value",
                 absl::StrCat(static_cast<int>(value)));
}

constexpr std::pair<pb::Architecture, Architecture> kArchitectures[] = {
    {pb::ARCHITECTURE_MLP, Architecture::kMlp},
    {pb::ARCHITECTURE_CONV, Architecture::kConv}};
constexpr std::pair<pb::Activation, Activation> kActivations[] = {
    {pb::ACTIVATION_TANH, Activation::kTanh},
    {pb::ACTIVATION_RELU, Activation::kRelu},
    {pb::ACTIVATION_SOFTPLUS, Activation::kSoftplus}};
constexpr std::pair<pb::Divergence, DivergenceKind> kDivergences[] = {
    {pb::DIVERGENCE_KL_DV, DivergenceKind::kKlDv},
    {pb::DIVERGENCE_W1, DivergenceKind::kW1},
    {pb::DIVERGENCE_KL_LEGENDRE, DivergenceKind::kKlLegendre},
    {pb::DIVERGENCE_REVERSE_KL, DivergenceKind::kReverseKl},
    {pb::DIVERGENCE_ALPHA, DivergenceKind::kAlpha},
    {pb::DIVERGENCE_JENSEN_SHANNON, DivergenceKind::kJensenShannon}};
constexpr std::pair<pb::LipschitzMode, LipschitzMode> kLipschitzModes[] = {
    {pb::LIPSCHITZ_MODE_ONE_SIDED_PENALTY, LipschitzMode::kOneSidedPenalty},
    {pb::LIPSCHITZ_MODE_TWO_SIDED_PENALTY, LipschitzMode::kTwoSidedPenalty},
    {pb::LIPSCHITZ_MODE_SPECTRAL_NORM, LipschitzMode::kSpectralNorm},
    {pb::LIPSCHITZ_MODE_NONE, LipschitzMode::kNone}};
constexpr std::pair<pb::LossCase, LossCase> kLossCases[] = {
    {pb::LOSS_CASE_OT, LossCase::kOt},
    {pb::LOSS_CASE_NO_OT, LossCase::kNoOt},
    {pb::LOSS_CASE_PG, LossCase::kPg},
    {pb::LOSS_CASE_OC, LossCase::kOc}};
constexpr std::pair<pb::Solver, Solver> kSolvers[] = {
    {pb::SOLVER_EULER, Solver::kEuler},
    {pb::SOLVER_HEUN, Solver::kHeun},
    {pb::SOLVER_MIDPOINT, Solver::kMidpoint},
    {pb::SOLVER_RK4, Solver::kRk4}};
constexpr std::pair<pb::GeneratorForm, GeneratorForm> kForms[] = {
    {pb::GENERATOR_FORM_POTENTIAL, GeneratorForm::kPotential},
    {pb::GENERATOR_FORM_DIRECT_VELOCITY, GeneratorForm::kDirectVelocity}};
constexpr std::pair<pb::KineticEnergyPoint, KineticEnergyPoint> kKePoints[] = {
    {pb::KINETIC_ENERGY_POINT_DETACHED_POST_STEP,
     KineticEnergyPoint::kDetachedPostStep},
    {pb::KINETIC_ENERGY_POINT_TRAJECTORY, KineticEnergyPoint::kTrajectory}};
absl::Status CheckName(const std::string& field, const std::string& name) {
  return CheckResourceName(absl::StrCat("training.", field), name);
}

constexpr std::pair<pb::DatasetKind, DatasetKind> kDatasetKinds[] = {
    {pb::DATASET_KIND_TOY, DatasetKind::kToy},
    {pb::DATASET_KIND_STUDENT_T, DatasetKind::kStudentT},
    {pb::DATASET_KIND_MNIST, DatasetKind::kMnist},
    {pb::DATASET_KIND_UPLOADED, DatasetKind::kUploaded}};
constexpr std::pair<pb::ToyShape, ToyShape> kToyShapes[] = {
    {pb::TOY_SHAPE_PINWHEEL, ToyShape::kPinwheel},
    {pb::TOY_SHAPE_MOONS, ToyShape::kMoons},
    {pb::TOY_SHAPE_EIGHT_GAUSSIANS, ToyShape::kEightGaussians},
    {pb::TOY_SHAPE_CHECKERBOARD, ToyShape::kCheckerboard},
    {pb::TOY_SHAPE_SWISSROLL, ToyShape::kSwissroll},
    {pb::TOY_SHAPE_CIRCLES, ToyShape::kCircles},
    {pb::TOY_SHAPE_TWO_SPIRALS, ToyShape::kTwoSpirals}};
constexpr std::pair<pb::SourceKind, SourceKind> kSourceKinds[] = {
    {pb::SOURCE_KIND_GAUSSIAN, SourceKind::kGaussian},
    {pb::SOURCE_KIND_UNIFORM, SourceKind::kUniform}};

absl::StatusOr<NetworkOptions> ResolveNetwork(absl::string_view path,
                                              const pb::NetworkConfig& c,
                                              int dimension) {
  NetworkOptions n;
  const std::string p(path);
  PROXFLOW_ASSIGN_OR_RETURN(n.architecture,
                            MapEnum(p + ".architecture", c.architecture(),
                                    kArchitectures, pb::Architecture_Name));
  PROXFLOW_ASSIGN_OR_RETURN(
      n.activation, MapEnum(p + ".activation", c.activation(), kActivations,
                            pb::Activation_Name));
  PROXFLOW_RETURN_IF_ERROR(CheckRange(p + ".depth", c.depth(), 1, 64));
  PROXFLOW_RETURN_IF_ERROR(CheckRange(p + ".width", c.width(), 1, 8192));
  n.depth = c.depth();
  n.width = c.width();
  if (n.architecture == Architecture::kConv && dimension != 784) {
    return Invalid(
        p + ".architecture",
        "ARCHITECTURE_CONV needs 28x28 images (training.dataset.dimension 784)",
        absl::StrCat("dimension ", dimension));
  }
  return n;
}

absl::StatusOr<DatasetOptions> ResolveDataset(const pb::DatasetConfig& c,
                                              int batch_size) {
  DatasetOptions d;
  PROXFLOW_ASSIGN_OR_RETURN(
      d.kind,
      MapEnum("dataset.kind", c.kind(), kDatasetKinds, pb::DatasetKind_Name));
  d.dimension = c.dimension();
  d.pool_size = c.pool_size();
  d.subset_size = c.subset_size();
  d.student_t_dof = c.student_t_dof();
  switch (d.kind) {
    case DatasetKind::kToy: {
      PROXFLOW_ASSIGN_OR_RETURN(d.toy, MapEnum("dataset.toy", c.toy(),
                                               kToyShapes, pb::ToyShape_Name));
      PROXFLOW_RETURN_IF_ERROR(
          CheckRange("dataset.dimension", c.dimension(), 2, 65536));
      break;
    }
    case DatasetKind::kStudentT:
      PROXFLOW_RETURN_IF_ERROR(
          CheckRange("dataset.dimension", c.dimension(), 1, 65536));
      PROXFLOW_RETURN_IF_ERROR(CheckLowerBound("dataset.student_t_dof",
                                               c.student_t_dof(), 0, false));
      break;
    case DatasetKind::kMnist:
      if (c.dimension() != 784) {
        return Invalid("dataset.dimension",
                       "must be 784 for DATASET_KIND_MNIST",
                       absl::StrCat(c.dimension()));
      }
      PROXFLOW_RETURN_IF_ERROR(
          CheckRange("dataset.subset_size", c.subset_size(), 1, 6000));
      d.mnist_dir = c.mnist_dir();
      break;
    case DatasetKind::kUploaded:
      PROXFLOW_RETURN_IF_ERROR(
          CheckRange("dataset.dimension", c.dimension(), 1, 65536));
      PROXFLOW_RETURN_IF_ERROR(
          CheckName("dataset.uploaded_name", c.uploaded_name()));
      d.uploaded_name = c.uploaded_name();
      break;
  }
  std::set<int> seen;
  for (int i = 0; i < c.mnist_labels_size(); ++i) {
    const int label = c.mnist_labels(i);
    const std::string field = absl::StrCat("dataset.mnist_labels[", i, "]");
    PROXFLOW_RETURN_IF_ERROR(CheckRange(field, label, 0, 9));
    if (!seen.insert(label).second)
      return Invalid(field, "must not repeat", absl::StrCat(label));
    d.mnist_labels.push_back(label);
  }
  if (d.kind == DatasetKind::kToy || d.kind == DatasetKind::kStudentT) {
    PROXFLOW_RETURN_IF_ERROR(
        CheckRange("dataset.pool_size", c.pool_size(), batch_size, 10000000));
  }
  return d;
}

absl::StatusOr<SourceOptions> ResolveSource(const pb::SourceConfig& c,
                                            int batch_size) {
  SourceOptions s;
  PROXFLOW_ASSIGN_OR_RETURN(s.kind, MapEnum("source.kind", c.kind(),
                                            kSourceKinds, pb::SourceKind_Name));
  s.low = c.low();
  s.high = c.high();
  if (s.kind == SourceKind::kUniform) {
    PROXFLOW_RETURN_IF_ERROR(
        CheckLowerBound("source.low", c.low(), -1e30, true));
    if (!(std::isfinite(c.high()) && c.high() > c.low())) {
      return Invalid(
          "source.high",
          absl::StrCat("must be finite and > source.low (", c.low(), ")"),
          absl::StrCat(c.high()));
    }
  }
  s.pool_size = c.pool_size();
  if (s.pool_size != 0) {
    PROXFLOW_RETURN_IF_ERROR(
        CheckRange("source.pool_size", c.pool_size(), batch_size, 10000000));
  }
  return s;
}

absl::StatusOr<CriticOptions> ResolveCritic(const pb::CriticConfig& c,
                                            int dimension) {
  CriticOptions o;
  PROXFLOW_ASSIGN_OR_RETURN(
      o.network, ResolveNetwork("critic.network", c.network(), dimension));
  PROXFLOW_ASSIGN_OR_RETURN(
      o.divergence, MapEnum("critic.divergence", c.divergence(), kDivergences,
                            pb::Divergence_Name));
  o.alpha = c.alpha();
  if (o.divergence == DivergenceKind::kAlpha) {
    PROXFLOW_RETURN_IF_ERROR(
        CheckLowerBound("critic.alpha", c.alpha(), 1.0, false));
  }
  PROXFLOW_ASSIGN_OR_RETURN(o.lipschitz_mode,
                            MapEnum("critic.lipschitz_mode", c.lipschitz_mode(),
                                    kLipschitzModes, pb::LipschitzMode_Name));
  PROXFLOW_RETURN_IF_ERROR(CheckLowerBound("critic.lipschitz_constant",
                                           c.lipschitz_constant(), 0, false));
  PROXFLOW_RETURN_IF_ERROR(
      CheckLowerBound("critic.penalty_weight", c.penalty_weight(), 0, true));
  PROXFLOW_RETURN_IF_ERROR(CheckRange("critic.steps_per_iteration",
                                      c.steps_per_iteration(), 1, 100));
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange("critic.learning_rate", c.learning_rate(), 1e-12, 1.0));
  o.lipschitz_constant = c.lipschitz_constant();
  o.penalty_weight = c.penalty_weight();
  o.steps_per_iteration = c.steps_per_iteration();
  o.learning_rate = c.learning_rate();
  return o;
}

absl::StatusOr<FlowOptions> ResolveFlow(const pb::FlowConfig& c) {
  FlowOptions f;
  PROXFLOW_RETURN_IF_ERROR(
      CheckLowerBound("flow.horizon", c.horizon(), 0, false));
  PROXFLOW_RETURN_IF_ERROR(CheckLowerBound("flow.dt", c.dt(), 0, false));
  const double steps = std::round(c.horizon() / c.dt());
  if (steps < 1 || steps > 10000 ||
      std::abs(steps * c.dt() - c.horizon()) > 1e-9 * c.horizon()) {
    return Invalid("flow.dt",
                   absl::StrCat("must divide training.flow.horizon (",
                                c.horizon(), ") into 1..10000 equal steps"),
                   absl::StrCat(c.dt()));
  }
  PROXFLOW_RETURN_IF_ERROR(
      CheckLowerBound("flow.lambda", c.lambda(), 0, false));
  PROXFLOW_RETURN_IF_ERROR(
      CheckLowerBound("flow.hjb_weight", c.hjb_weight(), 0, true));
  PROXFLOW_RETURN_IF_ERROR(
      CheckLowerBound("flow.terminal_weight", c.terminal_weight(), 0, true));
  PROXFLOW_ASSIGN_OR_RETURN(
      f.loss_case,
      MapEnum("flow.loss_case", c.loss_case(), kLossCases, pb::LossCase_Name));
  PROXFLOW_ASSIGN_OR_RETURN(
      f.kinetic_energy_point,
      MapEnum("flow.kinetic_energy_point", c.kinetic_energy_point(), kKePoints,
              pb::KineticEnergyPoint_Name));
  PROXFLOW_ASSIGN_OR_RETURN(f.sample_solver,
                            MapEnum("flow.sample_solver", c.sample_solver(),
                                    kSolvers, pb::Solver_Name));
  f.horizon = c.horizon();
  f.dt = c.dt();
  f.steps = static_cast<int>(steps);
  f.lambda = c.lambda();
  f.hjb_weight = c.hjb_weight();
  f.terminal_weight = c.terminal_weight();
  return f;
}

std::string DefaultModelName(const pb::TrainingConfig& c) {
  switch (c.dataset().kind()) {
    case pb::DATASET_KIND_TOY: {
      // An unknown shape is rejected later, naming dataset.toy; the default
      // name must not trip over it first.
      std::string name = pb::ToyShape_Name(c.dataset().toy());
      name = absl::StartsWith(name, "TOY_SHAPE_") ? name.substr(10) : "toy";
      for (char& ch : name)
        ch = ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
      return c.dataset().dimension() == 2
                 ? name
                 : absl::StrCat(name, "-", c.dataset().dimension(), "d");
    }
    case pb::DATASET_KIND_STUDENT_T:
      return "student-t";
    case pb::DATASET_KIND_UPLOADED:
      return IsValidResourceName(c.dataset().uploaded_name())
                 ? c.dataset().uploaded_name()
                 : "uploaded";
    default:
      return "mnist";
  }
}

constexpr std::pair<pb::MetricGoal, bool> kGoals[] = {
    {pb::METRIC_GOAL_MINIMIZE, true}, {pb::METRIC_GOAL_MAXIMIZE, false}};

bool IsMetricName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

absl::StatusOr<RegistryOptions> ResolveRegistry(const pb::RegistryConfig& c) {
  RegistryOptions r;
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange("registry.keep_latest", c.keep_latest(), 1, 1000));
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange("registry.keep_best", c.keep_best(), 0, 1000));
  if (!IsMetricName(c.best_metric())) {
    return Invalid("registry.best_metric",
                   "must be 1..64 characters of [a-z0-9_]",
                   QuoteForError(c.best_metric()));
  }
  PROXFLOW_ASSIGN_OR_RETURN(r.minimize,
                            MapEnum("registry.best_goal", c.best_goal(), kGoals,
                                    pb::MetricGoal_Name));
  r.keep_latest = c.keep_latest();
  r.keep_best = c.keep_best();
  r.best_metric = c.best_metric();
  return r;
}

}  // namespace

absl::StatusOr<pb::TrainingConfig> ExpandPreset(
    const pb::TrainingConfig& config) {
  const std::string preset(config.has_preset() ? config.preset()
                                               : std::string(kDefaultPreset));
  PROXFLOW_ASSIGN_OR_RETURN(pb::TrainingConfig full,
                            PresetConfig(preset.substr(0, 64)));
  full.MergeFrom(config);
  full.set_preset(preset);
  if (full.model().empty()) full.set_model(DefaultModelName(full));
  return full;
}

absl::StatusOr<TrainOptions> ResolveStoredTrainOptions(
    const pb::TrainingConfig& stored) {
  // Fields added after configs were first stored, at their value of before.
  pb::TrainingConfig config = stored;
  const bool has_ema_decay = stored.generator().has_ema_decay();
  if (!has_ema_decay) config.mutable_generator()->set_ema_decay(0);
  PROXFLOW_ASSIGN_OR_RETURN(TrainOptions options, ResolveTrainOptions(config));
  // resolved_config stays as stored, so a resumed run saves the same header.
  if (!has_ema_decay)
    options.resolved_config.mutable_generator()->clear_ema_decay();
  return options;
}

absl::StatusOr<TrainOptions> ResolveTrainOptions(
    const pb::TrainingConfig& config) {
  PROXFLOW_ASSIGN_OR_RETURN(const pb::TrainingConfig full,
                            ExpandPreset(config));

  TrainOptions o;
  PROXFLOW_RETURN_IF_ERROR(CheckName("model", full.model()));
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange<int64_t>("iterations", full.iterations(), 1, 10000000));
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange("batch_size", full.batch_size(), 1, 65536));
  o.preset = full.preset();
  o.model = full.model();
  o.iterations = full.iterations();
  o.batch_size = full.batch_size();
  o.seed = full.seed();
  PROXFLOW_ASSIGN_OR_RETURN(o.dataset,
                            ResolveDataset(full.dataset(), o.batch_size));
  PROXFLOW_ASSIGN_OR_RETURN(o.source,
                            ResolveSource(full.source(), o.batch_size));
  const int dim = o.dataset.dimension;
  PROXFLOW_ASSIGN_OR_RETURN(
      o.generator.network,
      ResolveNetwork("generator.network", full.generator().network(), dim));
  PROXFLOW_ASSIGN_OR_RETURN(o.generator.form,
                            MapEnum("generator.form", full.generator().form(),
                                    kForms, pb::GeneratorForm_Name));
  PROXFLOW_RETURN_IF_ERROR(CheckRange(
      "generator.learning_rate", full.generator().learning_rate(), 1e-12, 1.0));
  o.generator.learning_rate = full.generator().learning_rate();
  PROXFLOW_RETURN_IF_ERROR(CheckRange(
      "generator.ema_decay", full.generator().ema_decay(), 0.0, 0.999999));
  o.generator.ema_decay = full.generator().ema_decay();
  PROXFLOW_ASSIGN_OR_RETURN(o.critic, ResolveCritic(full.critic(), dim));
  PROXFLOW_ASSIGN_OR_RETURN(o.flow, ResolveFlow(full.flow()));
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange("optimizer.beta1", full.optimizer().beta1(), 0.0, 0.999999));
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange("optimizer.beta2", full.optimizer().beta2(), 0.0, 0.999999));
  o.beta1 = full.optimizer().beta1();
  o.beta2 = full.optimizer().beta2();
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange<int64_t>("log_interval", full.log_interval(), 1, 1000000));
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange<int64_t>("eval_interval", full.eval_interval(), 0, 10000000));
  PROXFLOW_RETURN_IF_ERROR(
      CheckRange("eval_batch_size", full.eval_batch_size(), 1, 1000000));
  PROXFLOW_RETURN_IF_ERROR(CheckRange<int64_t>(
      "checkpoint_interval", full.checkpoint_interval(), 0, 10000000));
  o.generator.network.quadratic = full.generator().quadratic();
  if (o.generator.network.quadratic &&
      o.generator.form != GeneratorForm::kPotential) {
    return Invalid("generator.quadratic",
                   "needs GENERATOR_FORM_POTENTIAL (it is a term of U)",
                   "true");
  }
  if (o.generator.form == GeneratorForm::kDirectVelocity &&
      (o.flow.loss_case == LossCase::kPg ||
       o.flow.loss_case == LossCase::kOc)) {
    return Invalid("flow.loss_case",
                   "needs GENERATOR_FORM_POTENTIAL (the HJB residual uses ∇U)",
                   pb::LossCase_Name(full.flow().loss_case()));
  }
  const int pool = o.dataset.kind == DatasetKind::kMnist ? o.dataset.subset_size
                                                         : o.dataset.pool_size;
  if (o.dataset.kind == DatasetKind::kMnist && o.batch_size > pool) {
    return Invalid(
        "batch_size",
        absl::StrCat("must be <= training.dataset.subset_size (", pool, ")"),
        absl::StrCat(o.batch_size));
  }
  // An uploaded dataset's row count is known only to the server, which checks
  // batch sizes against it when the job is submitted.
  if (o.dataset.kind != DatasetKind::kUploaded &&
      full.eval_batch_size() > pool) {
    return Invalid(
        "eval_batch_size",
        absl::StrCat("must be <= the target pool (", pool, " samples)"),
        absl::StrCat(full.eval_batch_size()));
  }
  o.log_interval = full.log_interval();
  o.eval_interval = full.eval_interval();
  o.eval_batch_size = full.eval_batch_size();
  o.checkpoint_interval = full.checkpoint_interval();
  PROXFLOW_ASSIGN_OR_RETURN(o.registry, ResolveRegistry(full.registry()));
  // The ref's syntax and target are the registry's to check (the server
  // does, at submission).
  if (full.init_from().size() > 300) {
    return Invalid("init_from", "must be at most 300 characters",
                   absl::StrCat(full.init_from().size(), " characters"));
  }
  o.resolved_config = std::move(full);
  // The registry ranks versions by what the job's evaluations log.
  const std::vector<std::string> logged = EvaluationMetricNames(o);
  if (std::find(logged.begin(), logged.end(), o.registry.best_metric) ==
      logged.end()) {
    if (config.registry().has_best_metric()) {
      return Invalid(
          "registry.best_metric",
          absl::StrCat("must be a metric this job's evaluations log (",
                       absl::StrJoin(logged, ", "), ")"),
          QuoteForError(o.registry.best_metric));
    }
    // The preset's default on data it was not written for (an uploaded
    // dataset has no Sinkhorn reference): the critic's divergence estimate.
    o.registry.best_metric = "divergence";
    o.registry.minimize = true;
    o.resolved_config.mutable_registry()->set_best_metric("divergence");
    o.resolved_config.mutable_registry()->set_best_goal(
        pb::METRIC_GOAL_MINIMIZE);
  }
  return o;
}

std::optional<Solver> SolverFromProto(pb::Solver solver) {
  for (const auto& [proto, value] : kSolvers)
    if (proto == solver) return value;
  return std::nullopt;
}

pb::Solver SolverToProto(Solver solver) {
  for (const auto& [proto, value] : kSolvers)
    if (value == solver) return proto;
  return pb::SOLVER_UNSPECIFIED;
}

}  // namespace proxflow::core
