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
  return kernels;
}

BlasKernels SelectBlasKernels(char** argv) {
  BlasKernels kernels = CurrentBlasKernels();
  const std::string better = ReexecutionCore(
      kernels.core, std::getenv(kCoreVariable) != nullptr, DetectCpuFeatures());
  if (better.empty()) return kernels;
  setenv(kCoreVariable, better.c_str(), /*overwrite=*/0);
  setenv(kSelectedVariable, "1", /*overwrite=*/1);
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  // Still here: the re-execution failed; run on the kernels we have.
  std::fprintf(stderr,
               "proxflow: cannot re-execute with %s=%s (%s); running on "
               "OpenBLAS's %s kernels\n",
               kCoreVariable, better.c_str(), std::strerror(errno),
               kernels.core.c_str());
  unsetenv(kCoreVariable);
  unsetenv(kSelectedVariable);
  return kernels;
}

}  // namespace proxflow
