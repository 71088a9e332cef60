// Crash injection for durability tests: CrashPoint("name") kills the process
// with SIGKILL (as `kill -9` would) on the N-th time it is reached when the
// environment holds PROXFLOW_CRASH_AT=name:N. Without the variable it costs
// one relaxed atomic load. Thread-safe.
#ifndef PROXFLOW_SERVER_FAULT_POINT_H_
#define PROXFLOW_SERVER_FAULT_POINT_H_

#include "absl/strings/string_view.h"

namespace proxflow::server {

void CrashPoint(absl::string_view name);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_FAULT_POINT_H_
