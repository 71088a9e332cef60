// SamplingRun: one integration of a flow from one source draw per seed, taken
// a solver step at a time, so that a caller (the sampling engine) can check for
// cancellation, report progress and record trajectory frames between steps,
// and drop rows whose requests went away.
//
// Batch invariance (the contract the sampling service's determinism rests
// on): a row's values after k steps depend only on its seed, the solver, the
// step count and the device, never on which or how many other rows share the
// run. Two things would break it, and both are closed off:
//  * BLAS kernels take other (differently rounded) paths for a single row and
//    for odd remainders: rows are padded to a multiple of kRowQuantum.
//  * With several intra-op threads, LibTorch and OpenBLAS split small batches
//    across threads along reduction dimensions (measured: the autograd ∇ₓU of
//    the conv potential differs by ~1e-9 between 8 and 64 rows on 2 threads).
//    On the CPU a step therefore runs inside an OpenMP team of its own: the
//    rows are cut into per-thread chunks (multiples of kRowQuantum) and each
//    chunk is computed single-threaded, where every batch size gives the same
//    row values.
// Tests check the invariance bitwise for MLP and conv flows in both forms.
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
