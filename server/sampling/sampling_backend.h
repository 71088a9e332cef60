// SamplingBackend: how the sampling engine loads checkpoints and integrates
// flows, behind an interface so that the server layer (and its tests) never
// link LibTorch. The production implementation wraps core::FlowModel and
// core::SamplingRun (core_backend.h); tests inject fakes.
#ifndef PROXFLOW_SERVER_SAMPLING_SAMPLING_BACKEND_H_
#define PROXFLOW_SERVER_SAMPLING_SAMPLING_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/options.h"
#include "core/trainer.h"

namespace proxflow::server {

// One integration in progress, with the semantics of core::SamplingRun (rows
// independent of the batch they are computed in). Thread-compatible.
class IntegrationRun {
 public:
  virtual ~IntegrationRun() = default;
  virtual absl::Status Step() = 0;
  virtual absl::Status KeepRows(const std::vector<int64_t>& rows) = 0;
  virtual absl::StatusOr<core::PointSamples> Points() const = 0;
};

// A checkpoint's flow loaded on one device. Thread-compatible: one run at a
// time, and runs must not outlive it.
class LoadedFlow {
 public:
  virtual ~LoadedFlow() = default;
  virtual absl::StatusOr<std::unique_ptr<IntegrationRun>> Start(
      const std::vector<uint64_t>& seeds, core::Solver solver, int steps) = 0;
  virtual int64_t parameter_bytes() const = 0;
  virtual std::string device() const = 0;
};

// Thread-safe.
class SamplingBackend {
 public:
  virtual ~SamplingBackend() = default;
  // The flow of checkpoint bytes on `device`; INVALID_ARGUMENT when the bytes
  // are not a loadable proxflow checkpoint.
  virtual absl::StatusOr<std::unique_ptr<LoadedFlow>> Load(
      absl::string_view checkpoint, const std::string& device) = 0;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_SAMPLING_SAMPLING_BACKEND_H_
