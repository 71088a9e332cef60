#include "core/trainer.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/datasets.h"
#include "core/device.h"
#include "core/lipschitz.h"
#include "core/torch_fence.h"
#include "core/trainer_impl.h"

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

at::Tensor Trainer::Impl::Generate(const at::Tensor& x0) {
  return Integrate(Solver::kEuler, flow->Field(), x0, 0.0, options.flow.dt,
                   options.flow.steps)
      .final;
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

at::Tensor Trainer::Impl::TerminalResidual(const at::Tensor& x_T,
                                           bool create_graph) {
  return core::TerminalResidual(
      *flow, [this](const at::Tensor& x) { return critic->forward(x); }, x_T,
      options.flow.horizon, create_graph);
}

Networks MakeNetworks(const TrainOptions& options) {
  const int64_t d = options.dataset.dimension;
  const bool potential = options.generator.form == GeneratorForm::kPotential;
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
    const int64_t batch = o.batch_size;
    at::Tensor critic_loss, estimate, penalty;
    const std::vector<at::Tensor> generated =
        s.GenerateCriticBatches(o.critic.steps_per_iteration, batch);
    for (int k = 0; k < o.critic.steps_per_iteration; ++k) {
      const at::Tensor& x_T = generated[k];
      const at::Tensor y = s.DataBatch(batch, s.rng.Get(Stream::kData));
      const at::Tensor u =
          at::rand({batch, 1}, s.rng.Get(Stream::kInterpolation), at::kFloat)
              .to(s.device);
      estimate = s.divergence.Estimate(s.critic->forward(x_T),
                                       s.critic->forward(y), s.critic->nu());
      penalty = GradientPenalty(
          [&](const at::Tensor& x) { return s.critic->forward(x); }, x_T, y, u,
          o.critic.lipschitz_constant, o.critic.lipschitz_mode,
          [&](const at::Tensor& x) {
            return s.critic->body()->DifferentiableInputGradient(x, {});
          });
      critic_loss = -estimate + o.critic.penalty_weight * penalty;
      s.critic_optimizer->zero_grad();
      critic_loss.backward();
      s.critic_optimizer->step();
      if (o.critic.lipschitz_mode == LipschitzMode::kSpectralNorm) {
        ProjectSpectralNorm(*s.critic->body(), o.critic.lipschitz_constant);
      }
    }

    const LossCase loss_case = o.flow.loss_case;
    RolloutOptions ro;
    ro.dt = o.flow.dt;
    ro.steps = o.flow.steps;
    ro.point = o.flow.kinetic_energy_point;
    ro.create_graph = true;
    ro.kinetic_energy = loss_case != LossCase::kNoOt;
    ro.hjb = loss_case == LossCase::kPg || loss_case == LossCase::kOc;
    const Rollout r =
        RollOut(*s.flow, s.SourceBatch(batch, s.rng.Get(Stream::kSource)), ro);
    at::Tensor generator_loss = s.critic->forward(r.x_final).mean();
    if (ro.kinetic_energy)
      generator_loss = generator_loss + o.flow.lambda * r.kinetic_energy;
    if (ro.hjb) generator_loss = generator_loss + o.flow.hjb_weight * r.hjb;
    at::Tensor terminal;
    if (loss_case == LossCase::kOc) {
      terminal = s.TerminalResidual(r.x_final, /*create_graph=*/true);
      generator_loss = generator_loss + o.flow.terminal_weight * terminal;
    }
    s.generator_optimizer->zero_grad();
    generator_loss.backward();
    s.generator_optimizer->step();
    ++s.iteration;

    Metrics m;
    m.iteration = s.iteration;
    m.values = {{"critic_loss", critic_loss.item<double>()},
                {"divergence", estimate.item<double>()},
                {"gradient_penalty", penalty.item<double>()},
                {"generator_loss", generator_loss.item<double>()}};
    if (ro.kinetic_energy)
      m.values.emplace_back("kinetic_energy", r.kinetic_energy.item<double>());
    if (r.hjb.defined()) m.values.emplace_back("hjb", r.hjb.item<double>());
    if (terminal.defined())
      m.values.emplace_back("terminal", terminal.item<double>());
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
