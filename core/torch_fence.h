// The exception fence: the only place where LibTorch exceptions become
// absl::Status.
//
// Every core entry point that touches torch runs its body through Fence(); no
// c10::Error or std::exception ever leaves core. Messages carry LibTorch's text
// without its backtrace.
#ifndef PROXFLOW_CORE_TORCH_FENCE_H_
#define PROXFLOW_CORE_TORCH_FENCE_H_

#include <exception>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxflow::core {
namespace internal {
// Converts the exception currently being handled into a status whose message
// starts with `context`. Must be called from inside a catch block.
absl::Status CurrentExceptionToStatus(absl::string_view context);
}  // namespace internal

// Runs `fn` and converts any exception it throws into an INTERNAL (or, for c10
// value/index errors, INVALID_ARGUMENT) status prefixed by `context`. `fn`
// returns absl::Status, absl::StatusOr<T>, or void (mapped to OkStatus).
template <typename Fn>
auto Fence(absl::string_view context, Fn&& fn) {
  using R = std::invoke_result_t<Fn>;
  if constexpr (std::is_void_v<R>) {
    try {
      std::forward<Fn>(fn)();
      return absl::OkStatus();
    } catch (...) {
      return internal::CurrentExceptionToStatus(context);
    }
  } else {
    try {
      return R(std::forward<Fn>(fn)());
    } catch (...) {
      return R(internal::CurrentExceptionToStatus(context));
    }
  }
}

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_TORCH_FENCE_H_
