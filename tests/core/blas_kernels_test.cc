// The process's BLAS kernels: core_tests' main runs SelectBlasKernels, as the
// server and proxflow-lab do, so this suite runs on the kernels they get.
#include "core/base/blas_kernels.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace proxflow {
namespace {

TEST(BlasKernels, GenericKernelsAreReplacedWhereTheCpuHasBetter) {
  const BlasKernels kernels = CurrentBlasKernels();
  ASSERT_FALSE(kernels.core.empty())
      << "LibTorch should reach OpenBLAS (scripts install libopenblas0-openmp)";
  const char* user = std::getenv("OPENBLAS_CORETYPE");
  if (kernels.chosen_by == "environment") {
    GTEST_SKIP() << "OPENBLAS_CORETYPE=" << (user ? user : "")
                 << " set by the user is kept as it is";
  }
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    GTEST_SKIP() << "this CPU has no AVX2/FMA kernels to choose";
  }
  EXPECT_NE(kernels.core, "Prescott") << "chosen by " << kernels.chosen_by;
  if (kernels.chosen_by == "proxflow") {
    ASSERT_NE(user, nullptr);
    EXPECT_EQ(kernels.core, std::string(user));
  }
}

}  // namespace
}  // namespace proxflow
