#include "core/base/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace proxflow {
namespace {

constexpr char kCoreVariable[] = "OPENBLAS_CORETYPE";
constexpr char kSelectedVariable[] = "PROXFLOW_BLAS_CORE_SELECTED";
constexpr char kWaitVariable[] = "OMP_WAIT_POLICY";
constexpr char kSpinVariable[] = "GOMP_SPINCOUNT";
constexpr char kWaitSelectedVariable[] = "PROXFLOW_OMP_WAIT_SELECTED";

// OpenBLAS's own report of its kernels; empty without OpenBLAS.
std::string OpenBlasCore() {
  using CoreName = char* (*)();
  const auto name =
      reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (name == nullptr) return "";
  const char* core = name();
  return core == nullptr ? "" : core;
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

CpuFeatures DetectCpuFeatures() {
  __builtin_cpu_init();
  CpuFeatures cpu;
  cpu.avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  cpu.avx2_fma =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return cpu;
}

std::string ReexecutionCore(const std::string& current_core, bool user_set,
                            const CpuFeatures& cpu) {
  if (current_core != "Prescott" || user_set) return "";
  if (cpu.avx512) return "SkylakeX";
  if (cpu.avx2_fma) return "Haswell";
  return "";
}

bool CpuRunsBlasCore(const std::string& core, const CpuFeatures& cpu) {
  const std::string name = Lower(core);
  if (name == "skylakex" || name == "cooperlake" || name == "sapphirerapids") {
    return cpu.avx512;
  }
  if (name == "haswell" || name == "zen" || name == "zen2" || name == "zen3") {
    return cpu.avx2_fma;
  }
  return true;
}

BlasKernels CurrentBlasKernels() {
  BlasKernels kernels;
  kernels.core = OpenBlasCore();
  if (std::getenv(kSelectedVariable) != nullptr) {
    kernels.chosen_by = "proxflow";
  } else if (std::getenv(kCoreVariable) != nullptr) {
    kernels.chosen_by = "environment";
  } else {
    kernels.chosen_by = "openblas";
  }
  if (std::getenv(kWaitSelectedVariable) != nullptr) {
    kernels.openmp_wait = "PASSIVE (proxflow)";
  } else if (const char* wait = std::getenv(kWaitVariable)) {
    kernels.openmp_wait = std::string(kWaitVariable) + "=" + wait;
  } else if (const char* spin = std::getenv(kSpinVariable)) {
    kernels.openmp_wait = std::string(kSpinVariable) + "=" + spin;
  } else {
    kernels.openmp_wait = "default";
  }
  return kernels;
}

BlasKernels SelectBlasKernels(char** argv, bool passive_openmp_wait) {
  BlasKernels kernels = CurrentBlasKernels();
  const std::string better = ReexecutionCore(
      kernels.core, std::getenv(kCoreVariable) != nullptr, DetectCpuFeatures());
  const bool set_wait = passive_openmp_wait &&
                        std::getenv(kWaitVariable) == nullptr &&
                        std::getenv(kSpinVariable) == nullptr;
  if (better.empty() && !set_wait) return kernels;
  if (!better.empty()) {
    setenv(kCoreVariable, better.c_str(), /*overwrite=*/0);
    setenv(kSelectedVariable, "1", /*overwrite=*/1);
  }
  if (set_wait) {
    setenv(kWaitVariable, "PASSIVE", /*overwrite=*/0);
    setenv(kWaitSelectedVariable, "1", /*overwrite=*/1);
  }
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  // Still here: the re-execution failed; run as we are.
  std::fprintf(
      stderr,
      "proxflow: cannot re-execute with %s%s%s (%s); running on "
      "OpenBLAS's %s kernels and OpenMP's default wait policy\n",
      better.empty() ? "" : (std::string(kCoreVariable) + "=" + better).c_str(),
      !better.empty() && set_wait ? " and " : "",
      set_wait ? "OMP_WAIT_POLICY=PASSIVE" : "", std::strerror(errno),
      kernels.core.c_str());
  if (!better.empty()) {
    unsetenv(kCoreVariable);
    unsetenv(kSelectedVariable);
  }
  if (set_wait) {
    unsetenv(kWaitVariable);
    unsetenv(kWaitSelectedVariable);
  }
  return kernels;
}

}  // namespace proxflow
