#include "core/rowwise_field.h"

#include <ATen/ATen.h>

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
    RunRowSpans(n, kRowsPerTask, [&](int64_t begin, int64_t size) {
      shared->Evaluate(src + begin * shared->input_dim(), size, time, scale,
                       dst + begin * shared->output_dim());
    });
    return out;
  });
}

}  // namespace proxflow::core
