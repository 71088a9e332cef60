// Trainer monitors and sampling: everything that reads the model without
// training it.
#include <ATen/ATen.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/class_monitor.h"
#include "core/datasets.h"
#include "core/metrics.h"
#include "core/seeded_normals.h"
#include "core/torch_fence.h"
#include "core/trainer.h"
#include "core/trainer_impl.h"

namespace proxflow::core {
PointSamples ToPoints(const at::Tensor& x) {
  const at::Tensor c = x.detach().to(at::kFloat).cpu().contiguous();
  PointSamples out;
  out.n = c.size(0);
  out.dimension = c.size(1);
  out.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return out;
}

at::Tensor SourceFromSeeds(const SourceOptions& source, int64_t dimension,
                           const std::vector<uint64_t>& seeds) {
  // Each row is what a CPU generator seeded with the row's seed draws. Normal
  // rows of fewer than 16 values are computed without a generator
  // (core/seeded_normals.h, bit for bit the same). On an H200 the draws of
  // mnist's uniform rows were 67-77 % of a request of 1,024+ images; filling
  // the rows with at::parallel_for did not shorten them (docs/PERFORMANCE.md,
  // "CUDA"), so they stay serial.
  if (source.kind == SourceKind::kGaussian && dimension <= kMaxSeededNormals) {
    at::Tensor out =
        at::empty({static_cast<int64_t>(seeds.size()), dimension}, at::kFloat);
    float* row = out.data_ptr<float>();
    for (uint64_t seed : seeds) {
      SeededNormals(seed, static_cast<int>(dimension), row);
      row += dimension;
    }
    return out;
  }
  std::vector<at::Tensor> starts;
  starts.reserve(seeds.size());
  for (uint64_t seed : seeds) {
    at::Generator gen = MakeCpuGenerator(seed);
    starts.push_back(SampleSource(source, 1, dimension, gen));
  }
  return at::cat(starts);
}

absl::StatusOr<PointSamples> SampleFlow(const Flow& flow,
                                        const TrainOptions& options,
                                        const c10::Device& device,
                                        const std::vector<uint64_t>& seeds,
                                        Solver solver, int steps,
                                        std::vector<PointSamples>* states) {
  PROXFLOW_ASSIGN_OR_RETURN(
      std::unique_ptr<SamplingRun> run,
      SamplingRunFactory::Start(flow, options, device, seeds, solver, steps));
  while (!run->done()) {
    PROXFLOW_RETURN_IF_ERROR(run->Step());
    if (states != nullptr) {
      PROXFLOW_ASSIGN_OR_RETURN(PointSamples state, run->Points());
      states->push_back(std::move(state));
    }
  }
  if (states != nullptr && !states->empty()) return states->back();
  return run->Points();
}

absl::StatusOr<std::vector<std::pair<std::string, double>>>
Trainer::Impl::ClassMetrics(const Flow& measured) {
  if (class_monitor_unavailable)
    return std::vector<std::pair<std::string, double>>();
  if (class_monitor == nullptr) {
    absl::StatusOr<std::unique_ptr<ClassMonitor>> created =
        [&]() -> absl::StatusOr<std::unique_ptr<ClassMonitor>> {
      PROXFLOW_ASSIGN_OR_RETURN(MnistImages mnist,
                                LoadMnist(options.dataset.mnist_dir));
      ClassMonitorOptions mo;
      mo.labels = options.dataset.mnist_labels;
      mo.samples = std::max(options.eval_batch_size, 10);
      mo.seed = options.seed;
      mo.cache_dir = classifier_cache_dir;
      mo.classifier_epochs = classifier_epochs;
      mo.device = device.str();
      return ClassMonitor::Create(mnist, mo);
    }();
    // A monitor that cannot be built (too few images for a held-out
    // reference) leaves the run's other metrics; it never fails the run.
    if (!created.ok()) {
      class_monitor_unavailable = true;
      return std::vector<std::pair<std::string, double>>();
    }
    class_monitor = *std::move(created);
  }
  PROXFLOW_ASSIGN_OR_RETURN(
      PointSamples points,
      SampleFlow(measured, options, device, class_monitor->seeds(),
                 options.flow.sample_solver, options.flow.steps));
  at::Tensor images = at::from_blob(points.values.data(),
                                    {points.n, points.dimension}, at::kFloat);
  return class_monitor->Measure(images);
}

absl::StatusOr<Metrics> Trainer::Evaluate() {
  return Fence("evaluation", [&]() -> absl::StatusOr<Metrics> {
    Impl& s = *impl_;
    const TrainOptions& o = s.options;
    at::Generator& gen = s.rng.Get(Stream::kEvaluation);
    const int64_t n = o.eval_batch_size;
    const at::Tensor x0 = s.SourceBatch(n, gen);
    const at::Tensor y =
        s.DataBatch(std::min<int64_t>(n, s.target_pool.size(0)), gen);

    const Flow& flow = s.SamplingFlow();
    RolloutOptions ro;
    ro.dt = o.flow.dt;
    ro.steps = o.flow.steps;
    ro.point = o.flow.kinetic_energy_point;
    ro.hjb = flow.is_potential();
    ro.path_length = true;
    const Rollout r = RollOut(flow, x0, ro);
    const at::Tensor x_half = Integrate(Solver::kEuler, flow.Field(), x0, 0.0,
                                        o.flow.dt / 2, 2 * o.flow.steps)
                                  .final;

    // The registry's default ranking metric for toy data (ALGORITHM.md §6
    // convention), on at most 1,000 points a side to bound the O(N·M) cost.
    const auto sinkhorn = [&](const at::Tensor& x) {
      const int64_t k = std::min<int64_t>({1000, n, y.size(0)});
      return SinkhornDivergence(x.narrow(0, 0, k), y.narrow(0, 0, k));
    };
    Metrics m;
    m.iteration = s.iteration;
    {
      torch::NoGradGuard no_grad;
      const at::Tensor phi_data = s.critic->forward(y);
      const auto estimate = [&](const at::Tensor& x) {
        return s.divergence
            .Estimate(s.critic->forward(x), phi_data, s.critic->nu())
            .abs()
            .item<double>();
      };
      const double displacement =
          (r.x_final - x0).norm(2, {1}).mean().item<double>();
      m.values = {
          {"divergence", estimate(r.x_final)},
          {"divergence_half_dt", estimate(x_half)},
          {"kinetic_energy", r.kinetic_energy.item<double>()},
          {"path_kinetic_energy", r.path_kinetic_energy.item<double>()}};
      if (r.hjb.defined()) m.values.emplace_back("hjb", r.hjb.item<double>());
      m.values.emplace_back("straightness",
                            Straightness(r.path_length, x0, r.x_final));
      m.values.emplace_back(
          "drift_half_dt",
          (x_half - r.x_final).norm(2, {1}).mean().item<double>() /
              std::max(displacement, 1e-12));
      if (o.dataset.kind == DatasetKind::kToy)
        m.values.emplace_back("sinkhorn", sinkhorn(r.x_final));
      if (o.dataset.kind == DatasetKind::kToy && o.dataset.dimension > 2) {
        m.values.emplace_back("off_manifold_std",
                              r.x_final.narrow(1, 2, o.dataset.dimension - 2)
                                  .std()
                                  .item<double>());
      }
    }
    if (flow.is_potential()) {
      const at::Tensor terminal = TerminalResidual(
          flow, [&s](const at::Tensor& x) { return s.critic->forward(x); },
          r.x_final, o.flow.horizon, /*create_graph=*/false);
      m.values.emplace_back("terminal", terminal.item<double>());
    }
    if (o.dataset.kind == DatasetKind::kMnist) {
      PROXFLOW_ASSIGN_OR_RETURN(auto class_metrics, s.ClassMetrics(flow));
      for (auto& metric : class_metrics) m.values.push_back(std::move(metric));
    }
    // With a moving average, the live weights' fidelity beside it: what the
    // average buys, measured on the same run.
    if (s.average) {
      if (o.dataset.kind == DatasetKind::kToy) {
        torch::NoGradGuard no_grad;
        const at::Tensor live = Integrate(Solver::kEuler, s.flow->Field(), x0,
                                          0.0, o.flow.dt, o.flow.steps)
                                    .final;
        m.values.emplace_back("live_sinkhorn", sinkhorn(live));
      }
      if (o.dataset.kind == DatasetKind::kMnist) {
        PROXFLOW_ASSIGN_OR_RETURN(auto class_metrics, s.ClassMetrics(*s.flow));
        for (auto& [name, value] : class_metrics)
          m.values.emplace_back(absl::StrCat("live_", name), value);
      }
    }
    s.history.push_back(m);
    return m;
  });
}

absl::StatusOr<PointSamples> Trainer::Sample(const std::vector<uint64_t>& seeds,
                                             Solver solver, int steps) {
  return SampleFlow(impl_->SamplingFlow(), impl_->options, impl_->device, seeds,
                    solver, steps);
}

absl::StatusOr<PointSamples> Trainer::SampleBatchedBaseline(
    const std::vector<uint64_t>& seeds, Solver solver, int steps) {
  if (steps < 1 || seeds.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("baseline sampling needs steps >= 1 and seeds, got ",
                     steps, " and ", seeds.size()));
  }
  return Fence("baseline sampling", [&]() -> absl::StatusOr<PointSamples> {
    const Impl& s = *impl_;
    torch::NoGradGuard no_grad;
    const at::Tensor x0 =
        SourceFromSeeds(s.options.source, s.options.dataset.dimension, seeds)
            .to(s.device);
    return ToPoints(Integrate(solver, s.SamplingFlow().Field(), x0, 0.0,
                              s.options.flow.horizon / steps, steps)
                        .final);
  });
}

absl::StatusOr<std::vector<PointSamples>> Trainer::SamplePath(
    const std::vector<uint64_t>& seeds, Solver solver, int steps) {
  std::vector<PointSamples> states;
  PROXFLOW_RETURN_IF_ERROR(SampleFlow(impl_->SamplingFlow(), impl_->options,
                                      impl_->device, seeds, solver, steps,
                                      &states)
                               .status());
  return states;
}

absl::StatusOr<PointSamples> Trainer::SourcePoints(
    const std::vector<uint64_t>& seeds) {
  if (seeds.empty())
    return absl::InvalidArgumentError("seeds must not be empty");
  return Fence("source points", [&]() -> absl::StatusOr<PointSamples> {
    return ToPoints(SourceFromSeeds(impl_->options.source,
                                    impl_->options.dataset.dimension, seeds));
  });
}

absl::StatusOr<PointSamples> Trainer::TargetSamples(int64_t n) {
  return Fence("target samples", [&]() -> absl::StatusOr<PointSamples> {
    Impl& s = *impl_;
    const int64_t k = std::min<int64_t>(n, s.target_pool.size(0));
    // A generator of its own: drawing targets for a plot never moves the run's
    // streams.
    at::Generator gen = MakeCpuGenerator(DeriveSeed(s.options.seed, 1000));
    return ToPoints(s.DataBatch(k, gen));
  });
}

}  // namespace proxflow::core
