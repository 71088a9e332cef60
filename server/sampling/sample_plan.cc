#include "server/sampling/sample_plan.h"

#include <cmath>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"
#include "core/base/error_text.h"
#include "core/base/status_macros.h"
#include "core/options_resolver.h"

namespace proxflow::server {
namespace {

namespace pb = ::proxflow::v1;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("sample.", field, " ", what));
}

absl::Status CheckRange(absl::string_view field, int64_t value, int64_t lo,
                        int64_t hi, absl::string_view limit_flag) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return Invalid(
      field, absl::StrCat("must be in [", lo, ", ", hi, "]",
                          limit_flag.empty() ? "" : " (server --", limit_flag,
                          limit_flag.empty() ? "" : ")", ", got ", value));
}

// Steps of a request over `horizon`: explicit, from dt, or the training's.
absl::StatusOr<int> ResolveSteps(const pb::SampleRequest& r, double horizon,
                                 const core::TrainOptions& options,
                                 const SamplingLimits& limits) {
  if (r.steps() > 0) return r.steps();
  if (r.dt() == 0) return options.flow.steps;
  const double exact = horizon / r.dt();
  const double whole = std::round(exact);
  if (!(whole >= 1) || std::abs(exact - whole) > 1e-9 * whole) {
    return Invalid("dt",
                   absl::StrCat("must divide the model's horizon ", horizon,
                                " into whole steps, got ", r.dt()));
  }
  if (whole > limits.max_steps) {
    return Invalid("dt", absl::StrCat("gives ", whole, " steps over horizon ",
                                      horizon, "; at most ", limits.max_steps,
                                      " (server --max_steps), got ", r.dt()));
  }
  return static_cast<int>(whole);
}

}  // namespace

int SamplePlan::frames_per_sample() const {
  if (trajectory_every <= 0) return 0;
  return 1 + (steps - 1) / trajectory_every;
}

std::vector<int64_t> SamplePlan::sample_shape() const {
  if (image()) return {height, width};
  return {dimension};
}

absl::Status ValidateSampleRequest(const pb::SampleRequest& r,
                                   const SamplingLimits& limits) {
  if (r.model_ref().empty()) return Invalid("model_ref", "must not be empty");
  if (r.seeds_size() > 0) {
    if (r.num_samples() != 0 && r.num_samples() != r.seeds_size()) {
      return Invalid("num_samples",
                     absl::StrCat("must be 0 or the number of seeds (",
                                  r.seeds_size(), "), got ", r.num_samples()));
    }
    PROXFLOW_RETURN_IF_ERROR(CheckRange("seeds count", r.seeds_size(), 1,
                                        limits.max_samples, "max_samples"));
  } else {
    PROXFLOW_RETURN_IF_ERROR(CheckRange("num_samples", r.num_samples(), 1,
                                        limits.max_samples, "max_samples"));
  }
  if (r.steps() != 0 && r.dt() != 0) {
    return Invalid("dt", absl::StrCat("and sample.steps are exclusive, got dt ",
                                      r.dt(), " and steps ", r.steps()));
  }
  if (r.steps() != 0) {
    PROXFLOW_RETURN_IF_ERROR(
        CheckRange("steps", r.steps(), 1, limits.max_steps, "max_steps"));
  }
  if (r.dt() != 0 && !(std::isfinite(r.dt()) && r.dt() > 0)) {
    return Invalid("dt", absl::StrCat("must be > 0, got ", r.dt()));
  }
  if (!pb::Solver_IsValid(r.solver())) {
    return Invalid("solver", absl::StrCat("is not a Solver, got ", r.solver()));
  }
  if (!pb::SampleEncoding_IsValid(r.encoding())) {
    return Invalid("encoding",
                   absl::StrCat("is not a SampleEncoding, got ", r.encoding()));
  }
  if (r.trajectory_every() < 0) {
    return Invalid("trajectory_every",
                   absl::StrCat("must be >= 0, got ", r.trajectory_every()));
  }
  if (r.request_id().size() > 128) {
    return Invalid("request_id",
                   absl::StrCat("must be at most 128 characters, got ",
                                r.request_id().size()));
  }
  for (const char c : r.request_id()) {
    if (c < 0x20 || c > 0x7e) {
      return Invalid("request_id", absl::StrCat("must be printable ASCII, got ",
                                                QuoteForError(r.request_id())));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SamplePlan> PlanSample(const pb::SampleRequest& r,
                                      const pb::Checkpoint& checkpoint,
                                      const SamplingLimits& limits,
                                      absl::BitGenRef seed_source) {
  SamplePlan plan;
  plan.request_id = r.request_id();
  plan.checkpoint = checkpoint;
  absl::StatusOr<core::TrainOptions> options =
      core::ResolveStoredTrainOptions(checkpoint.lineage().resolved_config());
  if (!options.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint ", checkpoint.uuid(),
                     " holds a config this server cannot resolve: ",
                     options.status().message()));
  }
  plan.options = *std::move(options);
  const core::TrainOptions& o = plan.options;
  plan.dimension = o.dataset.dimension;
  if (o.dataset.kind == core::DatasetKind::kMnist ||
      o.generator.network.architecture == core::Architecture::kConv) {
    plan.height = plan.width = 28;  // conv flows are 28×28 image flows
  }

  if (r.seeds_size() > 0) {
    plan.seeds.assign(r.seeds().begin(), r.seeds().end());
  } else {
    plan.seeds.resize(r.num_samples());
    for (uint64_t& seed : plan.seeds)
      seed = absl::Uniform<uint64_t>(seed_source);
  }
  plan.solver =
      core::SolverFromProto(r.solver()).value_or(o.flow.sample_solver);
  PROXFLOW_ASSIGN_OR_RETURN(plan.steps,
                            ResolveSteps(r, o.flow.horizon, o, limits));
  plan.dt = o.flow.horizon / plan.steps;

  plan.encoding = r.encoding();
  if (plan.encoding == pb::SAMPLE_ENCODING_UNSPECIFIED) {
    plan.encoding =
        plan.image() ? pb::SAMPLE_ENCODING_PNG : pb::SAMPLE_ENCODING_FLOAT32;
  }
  if (!plan.image() && plan.encoding != pb::SAMPLE_ENCODING_FLOAT32) {
    return Invalid(
        "encoding",
        absl::StrCat("must be SAMPLE_ENCODING_FLOAT32 for point models (",
                     checkpoint.model(), "/", checkpoint.version(),
                     " samples points of dimension ", plan.dimension,
                     "; ask for scatter_plot to get a picture), got ",
                     pb::SampleEncoding_Name(plan.encoding)));
  }
  plan.scatter_plot = r.scatter_plot();
  if (plan.scatter_plot && (plan.image() || plan.dimension < 2)) {
    return Invalid(
        "scatter_plot",
        absl::StrCat("needs a point model of dimension >= 2; ",
                     checkpoint.model(), "/", checkpoint.version(),
                     plan.image() ? " is an image model" : " has dimension 1"));
  }
  plan.trajectory_every = r.trajectory_every();
  if (plan.frames_per_sample() > limits.max_trajectory_frames) {
    return Invalid("trajectory_every",
                   absl::StrCat("gives ", plan.frames_per_sample(),
                                " frames over ", plan.steps, " steps; at most ",
                                limits.max_trajectory_frames,
                                " (server --max_trajectory_frames), got ",
                                plan.trajectory_every));
  }
  return plan;
}

}  // namespace proxflow::server
