#include "core/sampling_run.h"

#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/integrators.h"
#include "core/rowwise_field.h"
#include "core/team_tasks.h"
#include "core/torch_fence.h"
#include "core/trainer_impl.h"

namespace proxflow::core {

struct SamplingRun::Impl {
  VelocityFn field;
  // The field runs on core/kernels (rows independent by construction): no
  // padding, no chunking.
  bool rowwise = false;
  Solver solver = Solver::kEuler;
  int steps = 0;
  int steps_done = 0;
  double dt = 0;
  int64_t rows = 0;
  // (rows, d) on the flow's device; rows padded to a multiple of
  // RowQuantum(device) unless rowwise.
  at::Tensor x;
};

namespace {

// The fixed tile height of the LibTorch fallback: kRowQuantum rows on the
// CPU, kDeviceTileRows on CUDA, where every evaluation runs on tiles of
// exactly that many rows (cuBLAS and cuDNN choose kernels by shape).
int64_t RowQuantum(const at::Tensor& x) {
  return x.is_cpu() ? SamplingRun::kRowQuantum : SamplingRun::kDeviceTileRows;
}

// Zero rows appended up to the next multiple of RowQuantum.
at::Tensor Padded(const at::Tensor& x, int64_t rows) {
  const int64_t q = RowQuantum(x);
  const int64_t padded = (rows + q - 1) / q * q;
  if (padded == rows) return x.contiguous();
  return at::cat({x, at::zeros({padded - rows, x.size(1)}, x.options())});
}

// One solver step of `x` (rows a multiple of kRowQuantum) on the CPU, computed
// chunk by chunk, each chunk a single-threaded task of an OpenMP team (see the
// header and core/team_tasks.h: what keeps rows independent of their batch),
// even when there is only one chunk.
at::Tensor CpuStep(Solver solver, const VelocityFn& field, const at::Tensor& x,
                   double t, double dt) {
  const int threads = at::get_num_threads();
  if (threads <= 1) return SolverStep(solver, field, x, t, dt);
  const int64_t q = SamplingRun::kRowQuantum;
  const int64_t tiles = x.size(0) / q;
  const int64_t chunks = std::min<int64_t>(threads, tiles);
  std::vector<at::Tensor> out(chunks);
  RunTeamTasks(chunks, [&](int64_t c) {
    const Span span = EvenSpan(tiles, chunks, c);
    torch::NoGradGuard no_grad;
    out[c] = SolverStep(solver, field,
                        x.narrow(0, span.begin * q, span.size * q), t, dt);
  });
  return chunks == 1 ? out[0] : at::cat(out);
}

// One solver step on a device, tile by tile: every evaluation has the shape
// (kDeviceTileRows, d).
at::Tensor DeviceStep(Solver solver, const VelocityFn& field,
                      const at::Tensor& x, double t, double dt) {
  const int64_t tile = SamplingRun::kDeviceTileRows;
  const int64_t tiles = x.size(0) / tile;
  if (tiles == 1) return SolverStep(solver, field, x, t, dt);
  std::vector<at::Tensor> out;
  out.reserve(tiles);
  for (int64_t i = 0; i < tiles; ++i) {
    out.push_back(
        SolverStep(solver, field, x.narrow(0, i * tile, tile), t, dt));
  }
  return at::cat(out);
}

}  // namespace

SamplingRun::SamplingRun(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SamplingRun::~SamplingRun() = default;

absl::StatusOr<std::unique_ptr<SamplingRun>> SamplingRunFactory::Start(
    const Flow& flow, const TrainOptions& options, const c10::Device& device,
    const std::vector<uint64_t>& seeds, Solver solver, int steps) {
  if (steps < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("steps must be >= 1, got ", steps));
  }
  if (seeds.empty())
    return absl::InvalidArgumentError("seeds must not be empty");
  auto impl = std::make_unique<SamplingRun::Impl>();
  impl->solver = solver;
  impl->steps = steps;
  impl->dt = options.flow.horizon / steps;
  impl->rows = static_cast<int64_t>(seeds.size());
  PROXFLOW_RETURN_IF_ERROR(Fence("starting to sample", [&]() -> absl::Status {
    // The rowwise kernels copy the weights (LibTorch calls): inside the fence.
    if (device.is_cpu()) {
      if (std::optional<VelocityFn> field = RowwiseVelocityField(flow)) {
        impl->field = *std::move(field);
        impl->rowwise = true;
      }
    }
    if (!impl->rowwise) impl->field = flow.Field();
    at::Tensor x0 =
        SourceFromSeeds(options.source, options.dataset.dimension, seeds)
            .to(device);
    impl->x = impl->rowwise ? x0.contiguous() : Padded(x0, impl->rows);
    return absl::OkStatus();
  }));
  return std::unique_ptr<SamplingRun>(new SamplingRun(std::move(impl)));
}

absl::Status SamplingRun::Step() {
  Impl& s = *impl_;
  if (s.steps_done >= s.steps) {
    return absl::FailedPreconditionError(
        absl::StrCat("all ", s.steps, " steps are done"));
  }
  return Fence("a sampling step", [&]() -> absl::Status {
    // No graph to the weights; the potential form's ∇ₓU enables autograd
    // locally (Flow::Field).
    torch::NoGradGuard no_grad;
    if (s.rows == 0) {  // every row dropped: nothing to integrate
      ++s.steps_done;
      return absl::OkStatus();
    }
    // t_i = i·dt exactly as core::Integrate computes it.
    const double t = 0.0 + s.steps_done * s.dt;
    if (s.rowwise) {
      s.x = SolverStep(s.solver, s.field, s.x, t, s.dt);
    } else if (s.x.is_cpu()) {
      s.x = CpuStep(s.solver, s.field, s.x, t, s.dt);
    } else {
      s.x = DeviceStep(s.solver, s.field, s.x, t, s.dt);
    }
    ++s.steps_done;
    return absl::OkStatus();
  });
}

absl::Status SamplingRun::KeepRows(const std::vector<int64_t>& rows) {
  Impl& s = *impl_;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= s.rows || (i > 0 && rows[i] <= rows[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("rows must be strictly increasing indices below ",
                       s.rows, ", got ", rows[i], " at position ", i));
    }
  }
  return Fence("dropping rows", [&]() -> absl::Status {
    const int64_t kept = static_cast<int64_t>(rows.size());
    if (kept == 0) {
      s.x = s.x.narrow(0, 0, 0);
    } else {
      const at::Tensor index =
          at::tensor(rows, at::TensorOptions().dtype(at::kLong))
              .to(s.x.device());
      const at::Tensor selected = s.x.index_select(0, index);
      s.x = s.rowwise ? selected : Padded(selected, kept);
    }
    s.rows = kept;
    return absl::OkStatus();
  });
}

absl::StatusOr<PointSamples> SamplingRun::Points() const {
  return Fence("reading samples", [&]() -> absl::StatusOr<PointSamples> {
    return ToPoints(impl_->x.narrow(0, 0, impl_->rows));
  });
}

int64_t SamplingRun::rows() const { return impl_->rows; }
int SamplingRun::steps() const { return impl_->steps; }
int SamplingRun::steps_done() const { return impl_->steps_done; }
double SamplingRun::dt() const { return impl_->dt; }

}  // namespace proxflow::core
