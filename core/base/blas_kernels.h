// OpenBLAS kernel selection for processes that link LibTorch.
//
// Debian bookworm's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the
// CPU model once, when the library loads, before main(). On CPUs it does not
// know (the project's machine reports a generic "Intel(R) Xeon(R) Processor"
// with AVX-512) it falls back to "Prescott", its SSE3 kernels: proxflow's
// training ran 1.7× slower with them (docs/PERFORMANCE.md). OPENBLAS_CORETYPE
// overrides the choice, but only when set before the library loads.
#ifndef PROXFLOW_CORE_BASE_BLAS_KERNELS_H_
#define PROXFLOW_CORE_BASE_BLAS_KERNELS_H_

#include <string>

namespace proxflow {

struct BlasKernels {
  // OpenBLAS's name for the kernels in use ("SkylakeX", "Haswell", ...);
  // empty when the process is not linked to OpenBLAS.
  std::string core;
  // Who chose them: "environment" (OPENBLAS_CORETYPE was set by the user),
  // "proxflow" (set by SelectBlasKernels before a re-execution) or
  // "openblas" (its own detection was kept).
  std::string chosen_by;
};

// Call first thing in main(), before any thread starts. When the process uses
// OpenBLAS, OPENBLAS_CORETYPE is unset and OpenBLAS fell back to its generic
// Prescott kernels although the CPU has AVX-512 (F, BW, DQ, VL: "SkylakeX") or
// AVX2 with FMA ("Haswell"), sets OPENBLAS_CORETYPE (and
// PROXFLOW_BLAS_CORE_SELECTED=1) and re-executes /proc/self/exe with the same
// arguments; it does not return then. A user's own OPENBLAS_CORETYPE is never
// changed. If the re-execution fails, returns and the program runs on the
// kernels it has. Returns the kernels in use, for the log.
BlasKernels SelectBlasKernels(char** argv);

// The kernels in use, without changing anything.
BlasKernels CurrentBlasKernels();

}  // namespace proxflow

#endif  // PROXFLOW_CORE_BASE_BLAS_KERNELS_H_
