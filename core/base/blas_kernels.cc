#include "core/base/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

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

// The best kernels Debian's OpenBLAS has for this CPU, or "" for none better
// than its generic ones.
const char* BetterCore() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return "Haswell";
  }
  return "";
}

}  // namespace

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
  if (kernels.core != "Prescott" || std::getenv(kCoreVariable) != nullptr) {
    return kernels;
  }
  const char* better = BetterCore();
  if (*better == '\0') return kernels;
  setenv(kCoreVariable, better, /*overwrite=*/0);
  setenv(kSelectedVariable, "1", /*overwrite=*/1);
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  // Still here: the re-execution failed; run on the kernels we have.
  std::fprintf(stderr,
               "proxflow: cannot re-execute with %s=%s (%s); running on "
               "OpenBLAS's %s kernels\n",
               kCoreVariable, better, std::strerror(errno),
               kernels.core.c_str());
  unsetenv(kCoreVariable);
  unsetenv(kSelectedVariable);
  return kernels;
}

}  // namespace proxflow
