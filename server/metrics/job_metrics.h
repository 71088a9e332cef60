// JobMetrics: Prometheus series of training jobs, fed by the job manager as it
// commits job updates (never per-job labels: curves of one job go through
// WatchJob). Labels are closed sets: result ∈ {succeeded, failed, cancelled},
// state ∈ the JobState names, device ∈ the server's --device list; the one
// exception is proxflow_job_evaluation{job, metric}, each job's latest
// evaluation (MNIST: class_coverage, frechet, ...), whose series exist only
// until the job ends: bounded by the jobs running at once, so a dashboard shows
// collapse while it happens. Thread-safe (prometheus-cpp metrics are; the
// evaluation series' index has its own mutex).
#ifndef PROXFLOW_SERVER_METRICS_JOB_METRICS_H_
#define PROXFLOW_SERVER_METRICS_JOB_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proxflow/v1/job.pb.h"

namespace proxflow::server {

class JobMetrics {
 public:
  // `devices`: the server's --device list (the label values of per-device
  // series, present from the start).
  JobMetrics(prometheus::Registry& registry,
             const std::vector<std::string>& devices);

  void OnSubmitted();
  // A committed update of a job: `before` → `after` with `event`.
  void OnCommit(const proxflow::v1::Job& before, const proxflow::v1::Job& after,
                const proxflow::v1::JobEvent& event);
  // A checkpoint save attempt (serialise + store) and its outcome.
  void OnCheckpointSave(double seconds, int64_t bytes, bool ok);
  // Scrape-time gauges: jobs by state (every state present, 0 when none) and
  // the queue length.
  void SetJobCounts(const std::map<proxflow::v1::JobState, int64_t>& by_state,
                    int64_t queued);

 private:
  prometheus::Counter& submitted_;
  prometheus::Family<prometheus::Counter>& finished_;
  prometheus::Counter& restarted_;
  prometheus::Histogram& queue_wait_;
  prometheus::Counter& iterations_;
  prometheus::Histogram& iteration_seconds_;
  prometheus::Family<prometheus::Gauge>& samples_per_second_;
  prometheus::Family<prometheus::Counter>& saves_;
  prometheus::Histogram& save_seconds_;
  prometheus::Counter& saved_bytes_;
  prometheus::Family<prometheus::Gauge>& jobs_;
  prometheus::Gauge& queue_length_;
  prometheus::Family<prometheus::Gauge>& evaluation_;
  absl::Mutex mu_;
  // Per running job: its proxflow_job_evaluation series, removed at its end.
  std::map<std::string, std::vector<prometheus::Gauge*>> evaluation_series_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_METRICS_JOB_METRICS_H_
