#include "core/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace proxflow::core {
namespace {

// LibTorch 2.4 replaced the per-device functions (Debian's 1.13 has only those)
// with ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || \
    (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool Enabled(c10::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
void SetEnabled(c10::DeviceType d, bool on) {
  at::autocast::set_autocast_enabled(d, on);
}
c10::ScalarType Dtype(c10::DeviceType d) {
  return at::autocast::get_autocast_dtype(d);
}
void SetDtype(c10::DeviceType d, c10::ScalarType t) {
  at::autocast::set_autocast_dtype(d, t);
}
#else
bool Enabled(c10::DeviceType d) {
  return d == c10::kCUDA ? at::autocast::is_enabled()
                         : at::autocast::is_cpu_enabled();
}
void SetEnabled(c10::DeviceType d, bool on) {
  if (d == c10::kCUDA) {
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_cpu_enabled(on);
  }
}
c10::ScalarType Dtype(c10::DeviceType d) {
  return d == c10::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                         : at::autocast::get_autocast_cpu_dtype();
}
void SetDtype(c10::DeviceType d, c10::ScalarType t) {
  if (d == c10::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(t);
  } else {
    at::autocast::set_autocast_cpu_dtype(t);
  }
}
#endif

}  // namespace

Bf16Autocast::Bf16Autocast(c10::DeviceType device, bool enable)
    : device_(device == c10::kCUDA ? c10::kCUDA : c10::kCPU), enable_(enable) {
  if (!enable_) return;
  was_enabled_ = Enabled(device_);
  was_dtype_ = Dtype(device_);
  SetEnabled(device_, true);
  SetDtype(device_, c10::ScalarType::BFloat16);
  at::autocast::increment_nesting();
}

Bf16Autocast::~Bf16Autocast() {
  if (!enable_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  SetEnabled(device_, was_enabled_);
  SetDtype(device_, was_dtype_);
}

}  // namespace proxflow::core
