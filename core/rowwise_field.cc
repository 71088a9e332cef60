#include "core/rowwise_field.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <memory>

#include "core/kernels/rowwise_net.h"
#include "core/team_tasks.h"

namespace proxflow::core {

namespace {

// The fewest rows worth a thread of their own.
constexpr int64_t kRowsPerTask = 4;

// Every parameter of `network`, as (tensor, version counter).
std::vector<std::pair<const void*, int64_t>> ParameterVersions(
    const FlowNet& network) {
  std::vector<std::pair<const void*, int64_t>> versions;
  for (const at::Tensor& p : network->parameters()) {
    versions.emplace_back(p.unsafeGetTensorImpl(), p._version());
  }
  return versions;
}

}  // namespace

std::optional<VelocityFn> RowwiseVelocityField(const Flow& flow) {
  const FlowNet& network = flow.network();
  if (!network || network->bf16()) return std::nullopt;
  Flow::RowwiseCache& cache = flow.rowwise_cache();
  auto versions = ParameterVersions(network);
  if (cache.net == nullptr || cache.parameters != versions) {
    cache = {};
    absl::StatusOr<kernels::NetWeights> weights = network->RowwiseWeights();
    if (!weights.ok()) return std::nullopt;
    absl::StatusOr<kernels::RowwiseNet> net =
        kernels::RowwiseNet::Create(*weights, flow.is_potential());
    if (!net.ok()) return std::nullopt;
    cache.net = std::make_shared<const kernels::RowwiseNet>(*std::move(net));
    cache.parameters = std::move(versions);
  }
  std::shared_ptr<const kernels::RowwiseNet> shared = cache.net;
  // v = −∇ₓU/λ: the same float factor the LibTorch path multiplies by.
  const float scale =
      flow.is_potential() ? static_cast<float>(-1.0 / flow.lambda()) : 1.0f;
  return VelocityFn([shared, scale](const at::Tensor& x, double t) {
    const at::Tensor in = x.detach().to(at::kFloat).contiguous();
    const int64_t n = in.size(0);
    at::Tensor out = at::empty({n, shared->output_dim()}, in.options());
    const float* src = in.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const float time = static_cast<float>(t);
    // Rows are independent: any split over threads gives the same bytes.
    // The rows are cut into one contiguous span per LibTorch thread, each a
    // task of one OpenMP team (at::parallel_for would run serially here:
    // this file is compiled without -fopenmp, core/CMakeLists.txt).
    const int64_t tasks = std::clamp<int64_t>(
        (n + kRowsPerTask - 1) / kRowsPerTask, 1, at::get_num_threads());
    auto evaluate = [&](int64_t task) {
      const Span span = EvenSpan(n, tasks, task);
      shared->Evaluate(src + span.begin * shared->input_dim(), span.size, time,
                       scale, dst + span.begin * shared->output_dim());
    };
    if (tasks == 1) {
      evaluate(0);
    } else {
      RunTeamTasks(tasks, evaluate);
    }
    return out;
  });
}

}  // namespace proxflow::core
