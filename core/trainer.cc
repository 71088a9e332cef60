#include "core/trainer.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/datasets.h"
#include "core/device.h"
#include "core/fused_adam.h"
#include "core/lipschitz.h"
#include "core/sharded_backward.h"
#include "core/team_tasks.h"
#include "core/torch_fence.h"
#include "core/trainer_impl.h"
#include "core/weight_average.h"

namespace proxflow::core {

std::optional<double> Metrics::Find(absl::string_view name) const {
  for (const auto& [k, v] : values) {
    if (k == name) return v;
  }
  return std::nullopt;
}

Trainer::Impl::Impl(const TrainOptions& o, c10::Device d)
    : options(o),
      device(d),
      rng(o.seed),
      divergence(o.critic.divergence, o.critic.alpha) {}

at::Tensor Trainer::Impl::SourceBatch(int64_t n, at::Generator& gen) {
  if (source_pool.defined()) {
    return source_pool.index_select(
        0, SampleWithoutReplacement(source_pool.size(0), n, gen).to(device));
  }
  return SampleSource(options.source, n, options.dataset.dimension, gen)
      .to(device);
}

at::Tensor Trainer::Impl::DataBatch(int64_t n, at::Generator& gen) {
  return target_pool.index_select(
      0, SampleWithoutReplacement(target_pool.size(0), n, gen).to(device));
}

const Flow& Trainer::Impl::SamplingFlow() const {
  return average_flow != nullptr ? *average_flow : *flow;
}

void Trainer::Impl::StartAverage() {
  if (options.generator.ema_decay <= 0) return;
  average = MakeNetworks(options).generator;
  average->to(device);
  average->set_bf16(precision == Precision::kBfloat16);
  for (at::Tensor& p : average->parameters()) p.set_requires_grad(false);
  CopyWeights(*average, *generator);
  average_flow = std::make_unique<Flow>(average, options.generator.form,
                                        options.flow.lambda);
}

int64_t Trainer::Impl::Shards() const {
  if (!device.is_cpu()) return 1;
  return std::max<int64_t>(
      1, std::min<int64_t>(at::get_num_threads(), options.batch_size));
}

at::Tensor Trainer::Impl::Generate(const at::Tensor& x0) {
  const auto integrate = [&](const at::Tensor& x) {
    return Integrate(Solver::kEuler, flow->Field(), x, 0.0, options.flow.dt,
                     options.flow.steps)
        .final;
  };
  const int64_t rows = x0.size(0);
  const int64_t shards = std::min(Shards(), rows);
  if (shards <= 1) return integrate(x0);
  std::vector<at::Tensor> parts(static_cast<size_t>(shards));
  RunTeamTasks(shards, [&](int64_t i) {
    const Span span = EvenSpan(rows, shards, i);
    parts[i] = integrate(x0.narrow(0, span.begin, span.size));
  });
  return at::cat(parts, 0);
}

// The rows of shard `shard` of `shards` in x.
at::Tensor ShardRows(const at::Tensor& x, int64_t shards, int64_t shard) {
  const Span span = EvenSpan(x.size(0), shards, shard);
  return x.narrow(0, span.begin, span.size);
}

std::vector<int64_t> ShardSizes(int64_t rows, int64_t shards) {
  std::vector<int64_t> sizes;
  for (int64_t s = 0; s < shards; ++s)
    sizes.push_back(EvenSpan(rows, shards, s).size);
  return sizes;
}

void Trainer::Impl::CriticStep(const at::Tensor& x_T, int64_t shards,
                               Metrics& m) {
  const CriticOptions& c = options.critic;
  const int64_t batch = x_T.size(0);
  const at::Tensor y = DataBatch(batch, rng.Get(Stream::kData));
  const at::Tensor u =
      at::rand({batch, 1}, rng.Get(Stream::kInterpolation), at::kFloat)
          .to(device);
  at::Tensor estimate, penalty;
  const at::Tensor loss = ShardedBackward(
      shards, critic->parameters(),
      [&](int64_t shard) -> std::vector<at::Tensor> {
        const at::Tensor xs = ShardRows(x_T, shards, shard);
        const at::Tensor ys = ShardRows(y, shards, shard);
        const at::Tensor phi_generated = critic->forward(xs);
        const at::Tensor phi_data = critic->forward(ys);
        return {phi_generated, phi_data,
                GradientPenaltyRows(
                    [&](const at::Tensor& x) { return critic->forward(x); }, xs,
                    ys, ShardRows(u, shards, shard), c.lipschitz_constant,
                    c.lipschitz_mode,
                    [&](const at::Tensor& x) {
                      return critic->body()->DifferentiableInputGradient(x, {});
                    })};
      },
      [&](const ShardParts& parts) {
        estimate = divergence.Estimate(JoinedPart(parts, 0),
                                       JoinedPart(parts, 1), critic->nu());
        penalty = JoinedPart(parts, 2).mean();
        return -estimate + c.penalty_weight * penalty;
      });
  FusedAdamStep(*critic_optimizer);
  if (c.lipschitz_mode == LipschitzMode::kSpectralNorm) {
    ProjectSpectralNorm(*critic->body(), c.lipschitz_constant);
  }
  m.values = {{"critic_loss", loss.item<double>()},
              {"divergence", estimate.item<double>()},
              {"gradient_penalty", penalty.item<double>()}};
}

RolloutOptions Trainer::Impl::TrainingRollout() const {
  const FlowOptions& f = options.flow;
  RolloutOptions ro;
  ro.dt = f.dt;
  ro.steps = f.steps;
  ro.point = f.kinetic_energy_point;
  ro.create_graph = true;
  ro.kinetic_energy = f.loss_case != LossCase::kNoOt;
  ro.hjb = f.loss_case == LossCase::kPg || f.loss_case == LossCase::kOc;
  return ro;
}

std::vector<Rollout> Trainer::Impl::Rollouts(const at::Tensor& x0,
                                             int64_t shards) {
  std::vector<Rollout> out;
  for (int64_t s = 0; s < shards; ++s)
    out.push_back(RollOut(*flow, ShardRows(x0, shards, s), TrainingRollout()));
  return out;
}

void Trainer::Impl::GeneratorStep(const at::Tensor& x0,
                                  std::vector<Rollout> rollouts, Metrics& m) {
  const FlowOptions& f = options.flow;
  const int64_t batch = x0.size(0);
  const RolloutOptions ro = TrainingRollout();
  const bool terminal_term = f.loss_case == LossCase::kOc;
  const int64_t shards = Shards();
  const std::vector<int64_t> rows = ShardSizes(batch, shards);
  // Parts: φ(x_T) per row, the shard's KE, HJB (either may be undefined) and
  // terminal residual norm.
  at::Tensor kinetic_energy, hjb, terminal;
  const at::Tensor loss = ShardedBackward(
      shards, generator->parameters(),
      [&](int64_t shard) -> std::vector<at::Tensor> {
        // Taken, not copied: the graph is freed with the backward pass.
        const Rollout r = rollouts.empty()
                              ? RollOut(*flow, ShardRows(x0, shards, shard), ro)
                              : std::move(rollouts[shard]);
        std::vector<at::Tensor> parts = {critic->forward(r.x_final),
                                         r.kinetic_energy, r.hjb};
        if (terminal_term) {
          parts.push_back(TerminalResidualNorm(
              *flow, [&](const at::Tensor& x) { return critic->forward(x); },
              r.x_final, f.horizon, /*create_graph=*/true));
        }
        return parts;
      },
      [&](const ShardParts& parts) {
        at::Tensor total = JoinedPart(parts, 0).mean();
        kinetic_energy = RowWeightedMean(parts, 1, rows);
        hjb = RowWeightedMean(parts, 2, rows);
        if (kinetic_energy.defined()) total = total + f.lambda * kinetic_energy;
        if (ro.hjb && hjb.defined()) total = total + f.hjb_weight * hjb;
        if (terminal_term) {
          at::Tensor norm = parts[0][3];
          if (parts.size() > 1) {
            at::Tensor squares = norm.square();
            for (size_t s = 1; s < parts.size(); ++s)
              squares = squares + parts[s][3].square();
            norm = squares.sqrt();
          }
          terminal = norm / static_cast<double>(batch);
          total = total + f.terminal_weight * terminal;
        }
        return total;
      },
      /*forward_on_caller=*/!rollouts.empty());
  FusedAdamStep(*generator_optimizer);
  m.values.emplace_back("generator_loss", loss.item<double>());
  if (kinetic_energy.defined())
    m.values.emplace_back("kinetic_energy", kinetic_energy.item<double>());
  if (hjb.defined()) m.values.emplace_back("hjb", hjb.item<double>());
  if (terminal.defined())
    m.values.emplace_back("terminal", terminal.item<double>());
}

std::vector<at::Tensor> Trainer::Impl::GenerateCriticBatches(int steps,
                                                             int64_t batch) {
  // Each step's source batch, drawn in step order from the source stream.
  std::vector<at::Tensor> sources;
  sources.reserve(steps);
  for (int k = 0; k < steps; ++k)
    sources.push_back(SourceBatch(batch, rng.Get(Stream::kSource)));
  // θ does not change during the critic steps, so their flows can run as one
  // batch: fewer, larger operations (the rows do not interact). Groups stay
  // within kMaxCriticGenerationRows so a large batch does not multiply the
  // peak activation memory.
  constexpr int64_t kMaxCriticGenerationRows = 2048;
  const int64_t per_group = std::max<int64_t>(
      1, kMaxCriticGenerationRows / std::max<int64_t>(batch, 1));
  std::vector<at::Tensor> generated;
  generated.reserve(steps);
  for (int first = 0; first < steps; first += per_group) {
    const int count =
        static_cast<int>(std::min<int64_t>(per_group, steps - first));
    if (count == 1) {
      generated.push_back(Generate(sources[first]));
      continue;
    }
    const at::Tensor x_T = Generate(at::cat(
        at::TensorList(sources.data() + first, static_cast<size_t>(count)), 0));
    for (at::Tensor& part : x_T.split(batch, 0)) generated.push_back(part);
  }
  return generated;
}

Networks MakeNetworks(const TrainOptions& options) {
  const int64_t d = options.dataset.dimension;
  const bool potential = options.generator.form == GeneratorForm::kPotential;
  // NetworkOptions::quadratic is the generator's alone (the resolver sets it
  // for potentials only).
  return {FlowNet(d, /*with_time=*/true, potential ? 1 : d,
                  options.generator.network),
          Critic(d, options.critic.network)};
}

absl::StatusOr<std::unique_ptr<Trainer::Impl>> Trainer::BuildImpl(
    const TrainOptions& config_options, const RuntimeOptions& runtime) {
  // Where MNIST lives is a fact of this machine: the server's catalog
  // (runtime.mnist_dir) wins over a path in the config (in-process callers).
  // Only the struct changes; resolved_config, which checkpoints keep, does not.
  TrainOptions options = config_options;
  if (!runtime.mnist_dir.empty()) options.dataset.mnist_dir = runtime.mnist_dir;
  if (options.dataset.kind == DatasetKind::kMnist &&
      options.dataset.mnist_dir.empty()) {
    return absl::FailedPreconditionError(
        "training.dataset.mnist_dir is unset and no MNIST directory was given "
        "at run time: name the directory in-process (proxflow-lab "
        "--mnist_dir), or start proxflow-server with --datasets_root DIR "
        "holding DIR/mnist");
  }
  PROXFLOW_ASSIGN_OR_RETURN(DeviceSpec spec, ResolveDevice(runtime.device));
  PROXFLOW_ASSIGN_OR_RETURN(Precision precision,
                            ResolvePrecision(runtime.precision, spec));
  return Fence(
      "building the trainer",
      [&]() -> absl::StatusOr<std::unique_ptr<Trainer::Impl>> {
        const c10::Device device = spec.cuda
                                       ? c10::Device(c10::kCUDA, spec.index)
                                       : c10::Device(c10::kCPU);
        auto impl = std::make_unique<Trainer::Impl>(options, device);
        const int64_t d = options.dataset.dimension;
        PROXFLOW_ASSIGN_OR_RETURN(
            at::Tensor pool,
            BuildTargetPool(
                options.dataset, runtime.uploaded_dataset_path,
                std::max<int64_t>(options.batch_size, options.eval_batch_size),
                impl->rng.Get(Stream::kPool)));
        impl->target_pool = pool.to(device);
        impl->classifier_cache_dir = runtime.classifier_cache_dir;
        impl->classifier_epochs = runtime.classifier_epochs;
        if (options.source.pool_size > 0) {
          impl->source_pool =
              SampleSource(options.source, options.source.pool_size, d,
                           impl->rng.Get(Stream::kPool))
                  .to(device);
        }
        Networks nets = MakeNetworks(options);
        impl->generator = nets.generator;
        impl->critic = nets.critic;
        GlorotNormalInit(*impl->generator, impl->rng.Get(Stream::kInit));
        GlorotNormalInit(*impl->critic, impl->rng.Get(Stream::kInit));
        impl->generator->to(device);
        impl->critic->to(device);
        impl->precision = precision;
        impl->generator->set_bf16(precision == Precision::kBfloat16);
        impl->critic->body()->set_bf16(precision == Precision::kBfloat16);
        if (options.critic.lipschitz_mode == LipschitzMode::kSpectralNorm) {
          ProjectSpectralNorm(*impl->critic->body(),
                              options.critic.lipschitz_constant);
        }
        impl->flow = std::make_unique<Flow>(
            impl->generator, options.generator.form, options.flow.lambda);
        const auto adam = [&](double lr) {
          return torch::optim::AdamOptions(lr).betas(
              std::make_tuple(options.beta1, options.beta2));
        };
        impl->generator_optimizer = std::make_unique<torch::optim::Adam>(
            impl->generator->parameters(),
            adam(options.generator.learning_rate));
        impl->critic_optimizer = std::make_unique<torch::optim::Adam>(
            impl->critic->parameters(), adam(options.critic.learning_rate));
        impl->StartAverage();
        return impl;
      });
}

Trainer::Trainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Trainer::~Trainer() = default;

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(
    const TrainOptions& options, const RuntimeOptions& runtime) {
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl,
                            BuildImpl(options, runtime));
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

absl::StatusOr<Metrics> Trainer::Step() {
  return Fence("training step", [&]() -> absl::StatusOr<Metrics> {
    Impl& s = *impl_;
    const TrainOptions& o = s.options;
    const int steps = o.critic.steps_per_iteration;
    const std::vector<at::Tensor> generated =
        s.GenerateCriticBatches(steps, o.batch_size);
    Metrics m;
    const int64_t shards = s.Shards();
    if (shards > 1 && o.critic.network.architecture == Architecture::kMlp) {
      // An MLP critic's steps cost little more per row than their fixed
      // per-operation overhead, which shards would multiply: they run
      // unsharded, as one task, beside the generator step's rollouts (which
      // depend on θ alone, unchanged by the critic steps). The rollouts'
      // source batch comes from its own stream: drawn first, it is the batch
      // the sequential order would draw.
      const at::Tensor x0 =
          s.SourceBatch(o.batch_size, s.rng.Get(Stream::kSource));
      // The rollouts' graphs are built on this thread, which goes on to
      // extend them (core/team_tasks.h: RunBeside).
      std::vector<Rollout> rollouts;
      RunBeside([&] { rollouts = s.Rollouts(x0, shards); },
                [&] {
                  for (int k = 0; k < steps; ++k)
                    s.CriticStep(generated[k], 1, m);
                });
      s.GeneratorStep(x0, std::move(rollouts), m);
    } else {
      for (int k = 0; k < steps; ++k) s.CriticStep(generated[k], shards, m);
      s.GeneratorStep(s.SourceBatch(o.batch_size, s.rng.Get(Stream::kSource)),
                      {}, m);
    }
    if (s.average) {
      UpdateAverage(*s.average, *s.generator, o.generator.ema_decay,
                    s.iteration);
    }
    ++s.iteration;
    m.iteration = s.iteration;
    return m;
  });
}

absl::StatusOr<RunResult> Trainer::Run(const RunHooks& hooks,
                                       const std::atomic<bool>* cancel) {
  const TrainOptions& o = impl_->options;
  RunResult result;
  while (impl_->iteration < o.iterations) {
    if (cancel != nullptr && cancel->load()) {
      if (hooks.on_checkpoint)
        PROXFLOW_RETURN_IF_ERROR(hooks.on_checkpoint(impl_->iteration));
      result.outcome = RunOutcome::kCancelled;
      result.iteration = impl_->iteration;
      return result;
    }
    PROXFLOW_ASSIGN_OR_RETURN(Metrics m, Step());
    for (const auto& [name, value] : m.values) {
      if (!std::isfinite(value)) {
        result.outcome = RunOutcome::kDiverged;
        result.iteration = m.iteration;
        result.reason = absl::StrCat("diverged at iteration ", m.iteration,
                                     ": ", name, " is ", value);
        return result;
      }
    }
    const int64_t it = impl_->iteration;
    if (hooks.on_log && (it % o.log_interval == 0 || it == o.iterations))
      hooks.on_log(m);
    if (o.eval_interval > 0 &&
        (it % o.eval_interval == 0 || it == o.iterations)) {
      PROXFLOW_ASSIGN_OR_RETURN(Metrics e, Evaluate());
      if (hooks.on_eval) hooks.on_eval(e);
    }
    if (hooks.on_checkpoint && o.checkpoint_interval > 0 &&
        (it % o.checkpoint_interval == 0 || it == o.iterations)) {
      PROXFLOW_RETURN_IF_ERROR(hooks.on_checkpoint(it));
    }
  }
  result.iteration = impl_->iteration;
  return result;
}

int64_t Trainer::iteration() const { return impl_->iteration; }
const TrainOptions& Trainer::options() const { return impl_->options; }
std::string Trainer::device() const { return impl_->device.str(); }
std::string Trainer::precision() const {
  return PrecisionName(impl_->precision);
}
const std::vector<Metrics>& Trainer::history() const { return impl_->history; }

}  // namespace proxflow::core
