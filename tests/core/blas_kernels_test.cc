// The process's BLAS kernels: core_tests' main runs SelectBlasKernels, as the
// server and proxflow-lab do, so this suite runs on the kernels they get.
#include "core/base/blas_kernels.h"

#include <gtest/gtest.h>

#include <cctype>
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

// The re-execution's choice on every kind of CPU (whatever this one is).
TEST(BlasKernels, ReexecutesOnlyFromGenericKernelsTheUserDidNotForce) {
  const CpuFeatures avx512{true, true}, avx2{false, true}, sse{false, false};
  EXPECT_EQ(ReexecutionCore("Prescott", false, avx512), "SkylakeX");
  EXPECT_EQ(ReexecutionCore("Prescott", false, avx2), "Haswell");
  EXPECT_EQ(ReexecutionCore("Prescott", false, sse), "");
  EXPECT_EQ(ReexecutionCore("Prescott", true, avx512), "");  // user's choice
  EXPECT_EQ(ReexecutionCore("Zen", false, avx2), "");
  EXPECT_EQ(ReexecutionCore("SkylakeX", false, avx512), "");
  EXPECT_EQ(ReexecutionCore("Haswell", false, avx512), "");
}

TEST(BlasKernels, ForcedKernelsTheCpuCannotRunAreKnown) {
  const CpuFeatures avx512{true, true}, avx2{false, true}, sse{false, false};
  EXPECT_TRUE(CpuRunsBlasCore("SkylakeX", avx512));
  EXPECT_FALSE(CpuRunsBlasCore("SkylakeX", avx2));
  EXPECT_FALSE(CpuRunsBlasCore("skylakex", avx2));
  EXPECT_FALSE(CpuRunsBlasCore("COOPERLAKE", avx2));
  EXPECT_TRUE(CpuRunsBlasCore("Zen", avx2));
  EXPECT_TRUE(CpuRunsBlasCore("Haswell", avx2));
  EXPECT_FALSE(CpuRunsBlasCore("Haswell", sse));
  EXPECT_TRUE(CpuRunsBlasCore("Prescott", sse));
}

// Under a forced OPENBLAS_CORETYPE (ctest's kernel-family runs) the process
// runs those kernels.
TEST(BlasKernels, AForcedKernelFamilyIsTheOneInUse) {
  const char* user = std::getenv("OPENBLAS_CORETYPE");
  if (user == nullptr || std::getenv("PROXFLOW_BLAS_CORE_SELECTED") != nullptr) {
    GTEST_SKIP() << "OPENBLAS_CORETYPE is not forced";
  }
  std::string want = user, got = CurrentBlasKernels().core;
  for (char& c : want) c = static_cast<char>(std::tolower(c));
  for (char& c : got) c = static_cast<char>(std::tolower(c));
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace proxflow
