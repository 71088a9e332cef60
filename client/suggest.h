// "Did you mean" for misspelt names (fields, enum values, flags). Pure;
// thread-safe.
#ifndef PROXFLOW_CLIENT_SUGGEST_H_
#define PROXFLOW_CLIENT_SUGGEST_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace proxflow::client {

// The candidate closest to `given` (case-insensitive edit distance at most 3),
// or "" when none is that close.
std::string ClosestName(absl::string_view given,
                        const std::vector<std::string>& candidates);

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_SUGGEST_H_
