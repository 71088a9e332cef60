// gtest main for torch-heavy suites: fixes LibTorch's thread count (Debian's
// defaults to 1) so every run of the suite uses the same count, which
// bitwise-determinism tests rely on.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "core/base/blas_kernels.h"
#include "core/device.h"

// The exit status of a run skipped whole (ctest's SKIP_RETURN_CODE for the
// kernel-family runs, tests/CMakeLists.txt).
constexpr int kSkippedWhole = 77;

int main(int argc, char** argv) {
  proxflow::SelectBlasKernels(argv);  // may re-execute; see blas_kernels.h
  testing::InitGoogleTest(&argc, argv);
  // OPENBLAS_CORETYPE forcing kernels this CPU cannot execute (ctest's
  // SkylakeX run on an AVX2 machine) would die of SIGILL at the first matrix
  // product: skip the whole run, saying why.
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  if (forced != nullptr && !GTEST_FLAG_GET(list_tests) &&
      !proxflow::CpuRunsBlasCore(forced, proxflow::DetectCpuFeatures())) {
    std::printf(
        "[  SKIPPED ] OPENBLAS_CORETYPE=%s needs instructions this CPU lacks "
        "(AVX-512 for the SkylakeX families, AVX2+FMA for Haswell and Zen); "
        "those kernels are tested on CPUs that have them\n",
        forced);
    return kSkippedWhole;
  }
  auto threads = proxflow::core::ConfigureTorchThreads(1);
  if (!threads.ok()) {
    std::fprintf(stderr, "cannot set LibTorch threads\n");
    return 1;
  }
  return RUN_ALL_TESTS();
}
