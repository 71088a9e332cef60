// Mixed precision for network bodies: LibTorch's autocast to bfloat16 on the
// device of the inputs (ALGORITHM.md's networks; issue "CUDA path": bf16
// bodies, fp32 penalty, kinetic energy and optimiser). Internal to core.
#ifndef PROXFLOW_CORE_AUTOCAST_H_
#define PROXFLOW_CORE_AUTOCAST_H_

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

namespace proxflow::core {

// While alive, eligible ops (matrix products, convolutions) on `device` run in
// bfloat16 with fp32 master weights; a no-op when !enable. Restores the
// previous autocast state and, when the outermost scope ends, drops the cast
// weight cache (so an optimiser step is never hidden behind a stale copy).
// Autocast state is thread-local: construct and destroy on one thread.
class Bf16Autocast {
 public:
  Bf16Autocast(c10::DeviceType device, bool enable);
  ~Bf16Autocast();
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  c10::DeviceType device_;
  bool enable_;
  bool was_enabled_ = false;
  c10::ScalarType was_dtype_ = c10::ScalarType::Float;
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_AUTOCAST_H_
