// SamplingMetrics: Prometheus series of the sampling engine. Labels are closed
// sets: result ∈ {ok, cancelled, rejected, error}. Thread-safe
// (prometheus-cpp metrics are).
#ifndef PROXFLOW_SERVER_METRICS_SAMPLING_METRICS_H_
#define PROXFLOW_SERVER_METRICS_SAMPLING_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>

#include "absl/status/status.h"
#include "proxflow/v1/sampling_service.pb.h"

namespace proxflow::server {

class SamplingMetrics {
 public:
  explicit SamplingMetrics(prometheus::Registry& registry);

  // Submit refused the request (queue full, draining).
  void OnRejected();
  // An admitted request ended with `status` after `seconds`; `summary` (read
  // only when `status` is OK) holds its queue/compute/encode seconds.
  void OnEnded(const absl::Status& status,
               const proxflow::v1::SampleSummary& summary, double seconds);
  // The request's first final sample was pushed, `seconds` after acceptance.
  void OnFirstImage(double seconds);
  void OnSamples(int count);     // final samples pushed
  void OnBatch(int rows);        // rows integrated together
  void OnCacheLookup(bool hit);  // model cache, per batch
  // Scrape-time gauges.
  void SetState(int queued, int active, int64_t cache_bytes);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Counter& samples_;
  prometheus::Histogram& first_image_;
  prometheus::Histogram& request_seconds_;
  prometheus::Histogram& queue_seconds_;
  prometheus::Histogram& compute_seconds_;
  prometheus::Histogram& encode_seconds_;
  prometheus::Histogram& batch_rows_;
  prometheus::Family<prometheus::Counter>& cache_lookups_;
  prometheus::Gauge& queued_;
  prometheus::Gauge& active_;
  prometheus::Gauge& cache_bytes_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_METRICS_SAMPLING_METRICS_H_
