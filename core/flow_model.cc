#include "core/flow_model.h"

#include <c10/core/Device.h>

#include <utility>

#include "core/base/status_macros.h"
#include "core/device.h"
#include "core/flow.h"
#include "core/networks.h"
#include "core/torch_fence.h"
#include "core/trainer_impl.h"

namespace proxflow::core {

struct FlowModel::Impl {
  TrainOptions options;
  c10::Device device{c10::kCPU};
  FlowNet generator{nullptr};
  std::unique_ptr<Flow> flow;
  int64_t iteration = 0;
};

FlowModel::FlowModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FlowModel::~FlowModel() = default;

absl::StatusOr<std::unique_ptr<FlowModel>> FlowModel::Load(
    absl::string_view checkpoint, const std::string& device) {
  PROXFLOW_ASSIGN_OR_RETURN(DeviceSpec spec, ResolveDevice(device));
  auto impl = std::make_unique<Impl>();
  impl->device =
      spec.cuda ? c10::Device(c10::kCUDA, spec.index) : c10::Device(c10::kCPU);
  PROXFLOW_ASSIGN_OR_RETURN(StoredCheckpoint stored,
                            ReadCheckpoint(checkpoint));
  impl->options = stored.options;
  impl->iteration = stored.file.header.iteration();
  impl->generator = MakeNetworks(impl->options).generator;
  // A run that kept a moving average of its weights samples the average.
  PROXFLOW_RETURN_IF_ERROR(LoadModule(
      stored.file,
      impl->options.generator.ema_decay > 0 ? kAveragePrefix : "generator",
      *impl->generator, "checkpoint: ", /*exact=*/true));
  PROXFLOW_RETURN_IF_ERROR(Fence("loading the flow", [&]() -> absl::Status {
    impl->generator->to(impl->device);
    for (auto& p : impl->generator->parameters()) p.set_requires_grad(false);
    return absl::OkStatus();
  }));
  impl->flow = std::make_unique<Flow>(
      impl->generator, impl->options.generator.form, impl->options.flow.lambda);
  return std::unique_ptr<FlowModel>(new FlowModel(std::move(impl)));
}

absl::StatusOr<PointSamples> FlowModel::Sample(
    const std::vector<uint64_t>& seeds, Solver solver, int steps) {
  return SampleFlow(*impl_->flow, impl_->options, impl_->device, seeds, solver,
                    steps);
}

absl::StatusOr<std::unique_ptr<SamplingRun>> FlowModel::StartSampling(
    const std::vector<uint64_t>& seeds, Solver solver, int steps) {
  return SamplingRunFactory::Start(*impl_->flow, impl_->options, impl_->device,
                                   seeds, solver, steps);
}

const TrainOptions& FlowModel::options() const { return impl_->options; }
int64_t FlowModel::iteration() const { return impl_->iteration; }
std::string FlowModel::device() const { return impl_->device.str(); }

int64_t FlowModel::parameter_bytes() const {
  int64_t bytes = 0;
  for (const auto& p : impl_->generator->parameters())
    bytes += p.numel() * static_cast<int64_t>(p.element_size());
  for (const auto& b : impl_->generator->buffers())
    bytes += b.numel() * static_cast<int64_t>(b.element_size());
  return bytes;
}

}  // namespace proxflow::core
