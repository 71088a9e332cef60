# Finds every third-party package. All come from Debian bookworm packages installed by
# scripts/install-deps. Torch is searched only when the core is built; its compile flags stay
# on the `torch` target and never leak into global flags.
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(PNG REQUIRED)
find_package(ZLIB REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)  # --metrics_listen
find_package(yaml-cpp CONFIG REQUIRED)  # the CLI reads YAML and JSON configs

if(PROXFLOW_BUILD_CORE)
  find_package(Torch CONFIG REQUIRED)
  # scripts/build-cuda: fail at configure time, not at the first GPU run, when the LibTorch
  # found is CPU-only.
  option(PROXFLOW_REQUIRE_CUDA "Fail unless the LibTorch found is CUDA-enabled" OFF)
  if(PROXFLOW_REQUIRE_CUDA AND NOT TARGET torch_cuda)
    message(FATAL_ERROR "PROXFLOW_REQUIRE_CUDA: the LibTorch in ${Torch_DIR} has no torch_cuda")
  endif()
  message(STATUS "LibTorch ${Torch_VERSION} from ${Torch_DIR}")
  # Debian's LibTorch runs on libgomp; the sampler opens its own OpenMP team (sampling_run.cc).
  find_package(OpenMP REQUIRED COMPONENTS CXX)
endif()

if(PROXFLOW_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
  include(GoogleTest)
endif()
