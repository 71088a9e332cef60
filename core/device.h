// Device selection and LibTorch process settings. Torch-free header: usable by
// the server.
#ifndef PROXFLOW_CORE_DEVICE_H_
#define PROXFLOW_CORE_DEVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow::core {

struct DeviceSpec {
  bool cuda = false;
  int index = 0;                 // CUDA ordinal when cuda
  std::string ToString() const;  // "cpu" or "cuda:N"
};

// Resolves "auto" (first CUDA device when available, else CPU), "cpu", "cuda"
// or "cuda:N". INVALID_ARGUMENT for other spellings; FAILED_PRECONDITION when
// CUDA is requested but this build or machine has no such device.
absl::StatusOr<DeviceSpec> ResolveDevice(absl::string_view spec);

// Arithmetic of the network bodies. Losses, penalties, kinetic energy, the
// optimiser and the weights are float32 either way.
enum class Precision { kFloat32, kBfloat16 };

// Resolves "auto" (bfloat16 on CUDA, float32 on the CPU, where LibTorch's
// bfloat16 kernels are slower), "fp32" or "bf16". INVALID_ARGUMENT otherwise.
absl::StatusOr<Precision> ResolvePrecision(absl::string_view spec,
                                           const DeviceSpec& device);
const char* PrecisionName(Precision precision);  // "fp32" | "bf16"

// Number of CUDA devices LibTorch sees (0 on CPU-only builds such as Debian's).
int CudaDeviceCount();

// Sets LibTorch's intra-op thread count for the process (0 = all cores;
// Debian's LibTorch defaults to 1). Returns the count in effect. Call once at
// start-up, before any work.
absl::StatusOr<int> ConfigureTorchThreads(int threads);

// "1.13.1" etc.
std::string TorchVersion();

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_DEVICE_H_
