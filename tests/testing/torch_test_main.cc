// gtest main for torch-heavy suites: fixes LibTorch's thread count (Debian's
// defaults to 1) so every run of the suite uses the same count, which
// bitwise-determinism tests rely on.
#include <gtest/gtest.h>

#include <cstdio>

#include "core/base/blas_kernels.h"
#include "core/device.h"

int main(int argc, char** argv) {
  proxflow::SelectBlasKernels(argv);  // may re-execute; see blas_kernels.h
  testing::InitGoogleTest(&argc, argv);
  auto threads = proxflow::core::ConfigureTorchThreads(1);
  if (!threads.ok()) {
    std::fprintf(stderr, "cannot set LibTorch threads\n");
    return 1;
  }
  return RUN_ALL_TESTS();
}
