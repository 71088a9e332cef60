// Client text inside error messages. Torch-free, header-only, thread-safe.
#ifndef PROXFLOW_CORE_BASE_ERROR_TEXT_H_
#define PROXFLOW_CORE_BASE_ERROR_TEXT_H_

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace proxflow {

// `text` in double quotes, C-escaped (control bytes cannot reach a terminal or
// log verbatim) and cut to 160 characters with "..." marking the cut: the one
// way errors quote a value a client sent.
inline std::string QuoteForError(absl::string_view text) {
  constexpr size_t kMax = 160;
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMax)),
                      text.size() > kMax ? "..." : "", "\"");
}

}  // namespace proxflow

#endif  // PROXFLOW_CORE_BASE_ERROR_TEXT_H_
