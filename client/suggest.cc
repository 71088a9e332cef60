#include "client/suggest.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace proxflow::client {
namespace {

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ClosestName(absl::string_view given,
                        const std::vector<std::string>& candidates) {
  const std::string lower = absl::AsciiStrToLower(given);
  const std::string* best = nullptr;
  size_t best_distance = 4;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(lower, absl::AsciiStrToLower(c));
    if (d < best_distance) {
      best_distance = d;
      best = &c;
    }
  }
  return best == nullptr ? "" : *best;
}

}  // namespace proxflow::client
