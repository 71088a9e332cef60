// StorageMetrics: what the registry and the dataset store hold, and integrity
// failures (a stored checkpoint whose bytes no longer match its sha256).
// Thread-safe (prometheus-cpp metrics are).
#ifndef PROXFLOW_SERVER_METRICS_STORAGE_METRICS_H_
#define PROXFLOW_SERVER_METRICS_STORAGE_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>

namespace proxflow::server {

class StorageMetrics {
 public:
  explicit StorageMetrics(prometheus::Registry& registry);

  void OnIntegrityFailure();
  // Scrape-time gauges.
  void SetStored(int64_t registry_ready_bytes, int64_t registry_ready_versions,
                 int64_t dataset_bytes, int64_t datasets);

 private:
  prometheus::Counter& integrity_failures_;
  prometheus::Gauge& registry_bytes_;
  prometheus::Gauge& registry_versions_;
  prometheus::Gauge& dataset_bytes_;
  prometheus::Gauge& datasets_;
};

// Process figures read from /proc/self at scrape time: resident memory, CPU
// seconds, open file descriptors, threads and the start time.
class ProcessMetrics {
 public:
  explicit ProcessMetrics(prometheus::Registry& registry);
  void Refresh();

 private:
  prometheus::Gauge& resident_bytes_;
  prometheus::Gauge& cpu_seconds_;
  prometheus::Gauge& open_fds_;
  prometheus::Gauge& threads_;
  prometheus::Gauge& start_time_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_METRICS_STORAGE_METRICS_H_
