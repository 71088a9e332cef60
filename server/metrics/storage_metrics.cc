#include "server/metrics/storage_metrics.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "server/metrics/families.h"

namespace proxflow::server {
namespace {

// Fields of /proc/self/stat after the command name (field 3 is index 0).
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> fields;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 2));
  std::string f;
  while (rest >> f) fields.push_back(f);
  return fields;
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

StorageMetrics::StorageMetrics(prometheus::Registry& r)
    : integrity_failures_(
          NewCounter(r, "proxflow_checkpoint_integrity_failures_total",
                     "Stored checkpoints found corrupt or missing (sha256 "
                     "mismatch); "
                     "each turns its version FAILED")),
      registry_bytes_(
          NewGauge(r, "proxflow_registry_stored_bytes",
                   "Bytes of READY checkpoint versions in the registry")),
      registry_versions_(NewGauge(r, "proxflow_registry_ready_versions",
                                  "READY checkpoint versions in the registry")),
      dataset_bytes_(NewGauge(r, "proxflow_dataset_stored_bytes",
                              "Bytes of uploaded datasets")),
      datasets_(NewGauge(r, "proxflow_datasets", "Uploaded datasets")) {}

void StorageMetrics::OnIntegrityFailure() { integrity_failures_.Increment(); }

void StorageMetrics::SetStored(int64_t registry_ready_bytes,
                               int64_t registry_ready_versions,
                               int64_t dataset_bytes, int64_t datasets) {
  registry_bytes_.Set(static_cast<double>(registry_ready_bytes));
  registry_versions_.Set(static_cast<double>(registry_ready_versions));
  dataset_bytes_.Set(static_cast<double>(dataset_bytes));
  datasets_.Set(static_cast<double>(datasets));
}

ProcessMetrics::ProcessMetrics(prometheus::Registry& r)
    : resident_bytes_(NewGauge(r, "proxflow_process_resident_memory_bytes",
                               "Resident memory of the server process")),
      cpu_seconds_(
          NewGauge(r, "proxflow_process_cpu_seconds",
                   "User and system CPU time of the server process so far")),
      open_fds_(
          NewGauge(r, "proxflow_process_open_fds", "Open file descriptors")),
      threads_(NewGauge(r, "proxflow_process_threads",
                        "Threads of the server process")),
      start_time_(NewGauge(r, "proxflow_process_start_time_seconds",
                           "Start time of the process since the Unix epoch")) {}

void ProcessMetrics::Refresh() {
  const std::vector<std::string> f = StatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // stat fields (1-based in proc(5)): 14 utime, 15 stime, 20 num_threads,
  // 22 starttime, 24 rss; f[0] is field 3.
  if (f.size() > 21 && ticks > 0) {
    cpu_seconds_.Set((std::stod(f[11]) + std::stod(f[12])) / ticks);
    threads_.Set(std::stod(f[17]));
    start_time_.Set(BootTimeSeconds() + std::stod(f[19]) / ticks);
    resident_bytes_.Set(std::stod(f[21]) * page);
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  open_fds_.Set(fds);
}

}  // namespace proxflow::server
