#include "server/fault_point.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"

namespace proxflow::server {
namespace {

struct CrashSpec {
  std::string name;  // empty: disabled
  int hit = 0;       // 1-based
};

const CrashSpec& Spec() {
  static const CrashSpec* spec = [] {
    auto* s = new CrashSpec();
    const char* env = std::getenv("PROXFLOW_CRASH_AT");
    if (env == nullptr) return s;
    const std::string value(env);
    const size_t colon = value.rfind(':');
    int hit = 0;
    if (colon != std::string::npos &&
        absl::SimpleAtoi(value.substr(colon + 1), &hit) && hit >= 1) {
      s->name = value.substr(0, colon);
      s->hit = hit;
    }
    return s;
  }();
  return *spec;
}

}  // namespace

void CrashPoint(absl::string_view name) {
  const CrashSpec& spec = Spec();
  if (spec.name.empty() || spec.name != name) return;
  static std::atomic<int> hits{0};
  if (hits.fetch_add(1) + 1 == spec.hit) ::kill(::getpid(), SIGKILL);
}

}  // namespace proxflow::server
