#include "core/base/proc_status.h"

#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace proxflow {

int64_t ProcStatusKib(int pid, absl::string_view field) {
  if (pid < 0) return 0;
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : absl::StrCat("/proc/", pid, "/status"));
  const std::string prefix = absl::StrCat(field, ":");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, prefix)) continue;
    absl::ConsumeSuffix(&rest, "kB");
    int64_t kib = 0;
    return absl::SimpleAtoi(rest, &kib) ? kib : 0;
  }
  return 0;
}

}  // namespace proxflow
