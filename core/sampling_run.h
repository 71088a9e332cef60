// SamplingRun: one integration of a flow from one source draw per seed, taken
// a solver step at a time, so that a caller (the sampling engine) can check for
// cancellation, report progress and record trajectory frames between steps,
// and drop rows whose requests went away.
//
// Batch invariance (the contract the sampling service's determinism rests
// on): a row's values after k steps depend only on its seed, the solver, the
// step count, the weights and the device, never on which or how many other
// rows share the run, how many threads run it or which OpenBLAS kernels the
// process loaded.
//  * On the CPU in float32 (every preset's networks) this holds by
//    construction: the field is core/kernels/rowwise_net.h, whose every value
//    is one fixed FMA chain over its own row (no BLAS, no reduction split
//    across rows or threads), and the solver's updates are elementwise. The
//    bytes are also the same under every x86-64 CPU with AVX2+FMA and the
//    portable path (tests compare the two).
//  * Otherwise (bf16 on the CPU, a flow built from a function, CUDA) LibTorch
//    computes the field, on fixed tile shapes: on the CPU rows padded to
//    kRowQuantum and cut into single-threaded per-thread chunks inside an
//    OpenMP team of its own (where LibTorch and OpenBLAS run serially); on
//    CUDA every evaluation is on tiles of exactly kDeviceTileRows rows.
// Tests check the invariance bitwise for MLP and conv flows in both forms,
// under every OpenBLAS kernel family (ctest label "kernels").
//
// Torch-free header (pimpl). Every method fences LibTorch exceptions into
// absl::Status. Thread-compatible; the flow it was started from (a FlowModel or
// a Trainer) must outlive it and not run anything else concurrently.
#ifndef PROXFLOW_CORE_SAMPLING_RUN_H_
#define PROXFLOW_CORE_SAMPLING_RUN_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/options.h"
#include "core/trainer.h"

namespace proxflow::core {

class SamplingRun {
 public:
  static constexpr int64_t kRowQuantum = 8;
  static constexpr int64_t kDeviceTileRows = 256;

  ~SamplingRun();
  SamplingRun(const SamplingRun&) = delete;
  SamplingRun& operator=(const SamplingRun&) = delete;

  // One solver step, from t = steps_done()·dt. FAILED_PRECONDITION when all
  // steps are done.
  absl::Status Step();

  // Keeps only the listed rows (indices into the current rows, strictly
  // increasing), in that order. INVALID_ARGUMENT for a bad index list.
  absl::Status KeepRows(const std::vector<int64_t>& rows);

  // The current state of the real rows, on the CPU, in row order.
  absl::StatusOr<PointSamples> Points() const;

  int64_t rows() const;  // real rows (padding excluded)
  int steps() const;
  int steps_done() const;
  bool done() const { return steps_done() == steps(); }
  double dt() const;

 private:
  struct Impl;
  friend class SamplingRunFactory;  // core internal (trainer_impl.h)
  explicit SamplingRun(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_SAMPLING_RUN_H_
