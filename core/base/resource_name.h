// Names of user-visible resources (models, datasets): 1..128 characters of
// [A-Za-z0-9._-]. Torch-free, header-only, thread-safe.
#ifndef PROXFLOW_CORE_BASE_RESOURCE_NAME_H_
#define PROXFLOW_CORE_BASE_RESOURCE_NAME_H_

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/base/error_text.h"

namespace proxflow {

inline constexpr size_t kMaxResourceNameLength = 128;

// True when `name` is a valid model or dataset name. Such names are safe in
// file names and URLs.
inline bool IsValidResourceName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxResourceNameLength) return false;
  if (name == "." || name == "..") return false;
  for (char ch : name) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' ||
          ch == '_' || ch == '-')) {
      return false;
    }
  }
  return true;
}

// OK for a valid name; otherwise INVALID_ARGUMENT naming `field` and the
// value (the one message every name check gives).
inline absl::Status CheckResourceName(absl::string_view field,
                                      absl::string_view name) {
  if (IsValidResourceName(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be 1..128 characters of [A-Za-z0-9._-], got ",
                   QuoteForError(name)));
}

}  // namespace proxflow

#endif  // PROXFLOW_CORE_BASE_RESOURCE_NAME_H_
