// Status propagation macros. Debian's Abseil (20220623) ships no
// ABSL_RETURN_IF_ERROR, so the project keeps these two in one place.
// Header-only, torch-free: usable by core, server and client alike.
#ifndef PROXFLOW_CORE_BASE_STATUS_MACROS_H_
#define PROXFLOW_CORE_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PROXFLOW_INTERNAL_CONCAT_INNER(a, b) a##b
#define PROXFLOW_INTERNAL_CONCAT(a, b) PROXFLOW_INTERNAL_CONCAT_INNER(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function
// if not OK.
#define PROXFLOW_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::absl::Status proxflow_status_ = (expr);            \
    if (!proxflow_status_.ok()) return proxflow_status_; \
  } while (false)

// `PROXFLOW_ASSIGN_OR_RETURN(lhs, rexpr)`: evaluates `rexpr` (an
// absl::StatusOr<T>); on error returns its status, otherwise moves the value
// into `lhs` (which may be a declaration).
#define PROXFLOW_ASSIGN_OR_RETURN(lhs, rexpr) \
  PROXFLOW_INTERNAL_ASSIGN_OR_RETURN(         \
      PROXFLOW_INTERNAL_CONCAT(proxflow_statusor_, __LINE__), lhs, rexpr)

#define PROXFLOW_INTERNAL_ASSIGN_OR_RETURN(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                       \
  if (!statusor.ok()) return std::move(statusor).status();       \
  lhs = std::move(statusor).value()

#endif  // PROXFLOW_CORE_BASE_STATUS_MACROS_H_
