// SamplePlan: a SampleRequest checked against the server's limits and resolved
// against one READY checkpoint (defaults filled, seeds chosen), once, before
// the request is queued. Everything downstream (engine, encoders, stream) reads
// the plan and never re-checks. Pure functions; thread-safe.
#ifndef PROXFLOW_SERVER_SAMPLING_SAMPLE_PLAN_H_
#define PROXFLOW_SERVER_SAMPLING_SAMPLE_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "core/options.h"
#include "proxflow/v1/registry.pb.h"
#include "proxflow/v1/sampling_service.pb.h"

namespace proxflow::server {

// Server settings (flags); exceeding one is INVALID_ARGUMENT naming it.
struct SamplingLimits {
  int max_samples = 1024;          // per request
  int max_steps = 1000;            // integration steps per request
  int max_trajectory_frames = 16;  // frames per sample
};

struct SamplePlan {
  std::string request_id;
  proxflow::v1::Checkpoint checkpoint;  // READY: uuid, model, version
  core::TrainOptions options;           // the checkpoint's resolved options
  std::vector<uint64_t> seeds;          // one per sample
  core::Solver solver = core::Solver::kEuler;
  int steps = 0;
  double dt = 0;
  proxflow::v1::SampleEncoding encoding = proxflow::v1::SAMPLE_ENCODING_PNG;
  bool scatter_plot = false;
  int trajectory_every = 0;  // 0: no frames
  // Image models: height × width = dimension. Point models: 0 × 0.
  int height = 0;
  int width = 0;
  int dimension = 0;

  bool image() const { return height > 0; }
  int num_samples() const { return static_cast<int>(seeds.size()); }
  // Frames per sample: step 0 and every trajectory_every-th step before the
  // last (the last is the sample itself).
  int frames_per_sample() const;
  std::vector<int64_t> sample_shape() const;
};

// Checks what does not depend on the checkpoint (counts, ranges, exclusive
// fields). INVALID_ARGUMENT naming the field and value.
absl::Status ValidateSampleRequest(const proxflow::v1::SampleRequest& request,
                                   const SamplingLimits& limits);

// The plan of a request that passed ValidateSampleRequest, on `checkpoint`
// (READY). Seeds the request
// leaves out are drawn from `seed_source`. INVALID_ARGUMENT for settings the
// model cannot honour (encodings, dt that does not divide its horizon, ...).
absl::StatusOr<SamplePlan> PlanSample(
    const proxflow::v1::SampleRequest& request,
    const proxflow::v1::Checkpoint& checkpoint, const SamplingLimits& limits,
    absl::BitGenRef seed_source);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_SAMPLING_SAMPLE_PLAN_H_
