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
  // The OpenMP wait policy the process runs under, for the log:
  // "PASSIVE (proxflow)" when SelectBlasKernels set it, the user's
  // OMP_WAIT_POLICY / GOMP_SPINCOUNT ("OMP_WAIT_POLICY=..."), or "default".
  std::string openmp_wait;
};

// What a CPU offers OpenBLAS's kernels.
struct CpuFeatures {
  bool avx512 = false;  // AVX-512 F, BW, DQ and VL
  bool avx2_fma = false;
};
CpuFeatures DetectCpuFeatures();

// The OPENBLAS_CORETYPE SelectBlasKernels re-executes with: "SkylakeX" or
// "Haswell" when OpenBLAS picked its generic "Prescott" kernels although
// `cpu` runs better ones and the user set no OPENBLAS_CORETYPE; otherwise ""
// (keep what runs).
std::string ReexecutionCore(const std::string& current_core, bool user_set,
                            const CpuFeatures& cpu);

// Whether `cpu` can execute OpenBLAS's kernels named `core` (as
// OPENBLAS_CORETYPE spells them, any case): the AVX-512 families need
// AVX-512, Haswell and the Zen families AVX2+FMA; other names are taken to
// need neither. OpenBLAS does not check a forced core: kernels the CPU lacks
// die of SIGILL at the first matrix product.
bool CpuRunsBlasCore(const std::string& core, const CpuFeatures& cpu);

// Call first thing in main(), before any thread starts. When the process uses
// OpenBLAS, OPENBLAS_CORETYPE is unset and OpenBLAS fell back to its generic
// Prescott kernels although the CPU has AVX-512 (F, BW, DQ, VL: "SkylakeX") or
// AVX2 with FMA ("Haswell"), sets OPENBLAS_CORETYPE (and
// PROXFLOW_BLAS_CORE_SELECTED=1) and re-executes /proc/self/exe with the same
// arguments; it does not return then. A user's own OPENBLAS_CORETYPE is never
// changed. If the re-execution fails, returns and the program runs on the
// kernels it has. Returns the kernels in use, for the log.
//
// With `passive_openmp_wait` (the server, the lab, the benchmarks) and neither
// OMP_WAIT_POLICY nor GOMP_SPINCOUNT set, also sets OMP_WAIT_POLICY=PASSIVE
// (libgomp, like OpenBLAS, reads its environment once, when it loads), in the
// same single re-execution. libgomp's default spins an idle team thread for
// up to ~300,000 iterations between parallel regions; beside one busy process
// on a 2-core machine that spinning thread and the neighbour take turns on a
// core and training fell to a third of its idle rate (docs/PERFORMANCE.md).
BlasKernels SelectBlasKernels(char** argv, bool passive_openmp_wait = false);

// The kernels in use, without changing anything.
BlasKernels CurrentBlasKernels();

}  // namespace proxflow

#endif  // PROXFLOW_CORE_BASE_BLAS_KERNELS_H_
