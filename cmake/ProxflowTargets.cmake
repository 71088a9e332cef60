# Helpers shared by the target definitions.

# proxflow_warnings(<target>): the project's warning set, applied per target.
function(proxflow_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

# proxflow_torch_pch(<target>): precompiled LibTorch headers for torch-heavy targets.
# Every such target reuses the PCH built for proxflow_core, so the headers compile once.
function(proxflow_torch_pch target)
  if(NOT PROXFLOW_USE_PCH)
    return()
  endif()
  if(target STREQUAL "proxflow_core")
    target_precompile_headers(${target} PRIVATE
      <ATen/ATen.h>
      <torch/nn/module.h>
      <torch/nn/modules/linear.h>
      <torch/nn/modules/conv.h>
      <torch/nn/functional.h>
      <torch/optim/adam.h>
      <torch/autograd.h>
      <torch/serialize.h>
      <absl/status/status.h>
      <absl/status/statusor.h>
      <absl/strings/str_cat.h>
      <absl/strings/str_format.h>)
  else()
    target_precompile_headers(${target} REUSE_FROM proxflow_core)
  endif()
endfunction()

# proxflow_fast_malloc(<target>): tcmalloc (Debian's libtcmalloc-minimal4) as the malloc of a
# torch binary. LibTorch allocates and frees a tensor per operation; glibc's malloc (with its
# consolidation and trimming) was ~10% of a toy-preset training iteration, and manifold-12d
# training ran ~9% faster with tcmalloc (docs/PERFORMANCE.md). Skipped in sanitizer and fuzz
# builds (ASan brings its own allocator) and where the library is absent.
function(proxflow_fast_malloc target)
  if(PROXFLOW_FUZZ OR CMAKE_CXX_FLAGS MATCHES "sanitize")
    return()
  endif()
  find_library(PROXFLOW_TCMALLOC NAMES tcmalloc_minimal libtcmalloc_minimal.so.4)
  if(PROXFLOW_TCMALLOC)
    # Linked even though no symbol is referenced: it interposes malloc and free.
    # (One -Wl item: CMake keeps it whole and in place; Debian links --no-as-needed anyway.)
    target_link_libraries(${target} PRIVATE "-Wl,--no-as-needed,${PROXFLOW_TCMALLOC}")
  else()
    message(STATUS "libtcmalloc-minimal4 not found: ${target} uses glibc's malloc")
  endif()
endfunction()
