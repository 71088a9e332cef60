// FlowModel: a trained flow loaded for inference from checkpoint bytes: the
// generator only (no critic, optimisers or data), on one device.
//
// Torch-free header (pimpl), so that server code can hold models without
// including LibTorch. Every method fences LibTorch exceptions into
// absl::Status. Thread-compatible: one Sample() at a time per model.
#ifndef PROXFLOW_CORE_FLOW_MODEL_H_
#define PROXFLOW_CORE_FLOW_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/options.h"
#include "core/sampling_run.h"
#include "core/trainer.h"

namespace proxflow::core {

class FlowModel {
 public:
  // Loads the generator of a Trainer::SerializeCheckpoint() file onto
  // `device` (auto | cpu | cuda | cuda:N). INVALID_ARGUMENT when the bytes are
  // not a loadable proxflow checkpoint.
  static absl::StatusOr<std::unique_ptr<FlowModel>> Load(
      absl::string_view checkpoint, const std::string& device);

  ~FlowModel();
  FlowModel(const FlowModel&) = delete;
  FlowModel& operator=(const FlowModel&) = delete;

  // Exactly what Trainer::Sample of the run that wrote the checkpoint returns
  // for the same seeds, solver and steps (one code path serves both).
  absl::StatusOr<PointSamples> Sample(const std::vector<uint64_t>& seeds,
                                      Solver solver, int steps);

  // The same integration a step at a time (what Sample() runs to its end). The
  // run borrows this model: it must not outlive it, and the model runs one
  // thing at a time.
  absl::StatusOr<std::unique_ptr<SamplingRun>> StartSampling(
      const std::vector<uint64_t>& seeds, Solver solver, int steps);

  // The run's resolved options (training solver and dt are the defaults a
  // sampler should use).
  const TrainOptions& options() const;
  int64_t iteration() const;  // training iterations behind the weights
  std::string device() const;
  // Bytes the generator's parameters and buffers take on the device.
  int64_t parameter_bytes() const;

 private:
  struct Impl;
  explicit FlowModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_FLOW_MODEL_H_
