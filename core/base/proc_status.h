// Fields of /proc/PID/status (Linux), for memory figures in tools and benches.
// Torch-free; thread-safe (reads the file on each call).
#ifndef PROXFLOW_CORE_BASE_PROC_STATUS_H_
#define PROXFLOW_CORE_BASE_PROC_STATUS_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxflow {

// A "kB" field of /proc/PID/status ("VmRSS", "VmHWM", ...) in KiB; pid 0 reads
// /proc/self. 0 when the process, the file or the field is not there.
int64_t ProcStatusKib(int pid, absl::string_view field);

}  // namespace proxflow

#endif  // PROXFLOW_CORE_BASE_PROC_STATUS_H_
