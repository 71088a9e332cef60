#include "core/device.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <charconv>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/torch_fence.h"

namespace proxflow::core {

std::string DeviceSpec::ToString() const {
  return cuda ? absl::StrCat("cuda:", index) : "cpu";
}

int CudaDeviceCount() {
  auto count = Fence("cuda device count", [] {
    return absl::StatusOr<int>(static_cast<int>(torch::cuda::device_count()));
  });
  return count.ok() ? *count : 0;
}

namespace {

// fp32 means fp32 on CUDA too: LibTorch lets cuDNN convolutions use TF32
// (10-bit mantissa) by default, which would also make a sample depend on the
// kernel its batch size selects. Reduced precision is the explicit bf16 mode.
void DisableTf32() {
  static const bool done = [] {
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
    return true;
  }();
  (void)done;
}

}  // namespace

absl::StatusOr<DeviceSpec> ResolveDevice(absl::string_view spec) {
  const int cuda_devices = CudaDeviceCount();
  if (spec == "auto") {
    if (cuda_devices > 0) DisableTf32();
    return DeviceSpec{cuda_devices > 0, 0};
  }
  if (spec == "cpu") return DeviceSpec{false, 0};
  int index = 0;
  if (spec == "cuda") {
    index = 0;
  } else if (spec.substr(0, 5) == "cuda:" && spec.size() > 5) {
    const char* begin = spec.data() + 5;
    const char* end = spec.data() + spec.size();
    auto [ptr, ec] = std::from_chars(begin, end, index);
    if (ec != std::errc() || ptr != end || index < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("device must be auto, cpu, cuda or cuda:N, got \"",
                       spec.substr(0, 32), "\""));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("device must be auto, cpu, cuda or cuda:N, got \"",
                     spec.substr(0, 32), "\""));
  }
  if (index >= cuda_devices) {
    return absl::FailedPreconditionError(
        absl::StrCat("device cuda:", index, " requested but ", cuda_devices,
                     " CUDA devices are available"));
  }
  DisableTf32();
  return DeviceSpec{true, index};
}

absl::StatusOr<Precision> ResolvePrecision(absl::string_view spec,
                                           const DeviceSpec& device) {
  if (spec == "auto")
    return device.cuda ? Precision::kBfloat16 : Precision::kFloat32;
  if (spec == "fp32") return Precision::kFloat32;
  if (spec == "bf16") return Precision::kBfloat16;
  return absl::InvalidArgumentError(
      absl::StrCat("precision must be auto, fp32 or bf16, got \"",
                   spec.substr(0, 32), "\""));
}

const char* PrecisionName(Precision precision) {
  return precision == Precision::kBfloat16 ? "bf16" : "fp32";
}

absl::StatusOr<int> ConfigureTorchThreads(int threads) {
  if (threads < 0 || threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be in [0, 1024], got ", threads));
  }
  const int n =
      threads > 0
          ? threads
          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  {
    absl::Status s = Fence("set threads", [n] { at::set_num_threads(n); });
    if (!s.ok()) return s;
  }
  return at::get_num_threads();
}

std::string TorchVersion() { return TORCH_VERSION; }

}  // namespace proxflow::core
