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
