#include "server/metrics/sampling_metrics.h"

#include "server/metrics/families.h"

namespace proxflow::server {
namespace {

using Buckets = prometheus::Histogram::BucketBoundaries;

const Buckets& LatencyBuckets() {
  static const auto* b =
      new Buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                  0.25,  0.5,    1,     2.5,  5,     10,   30};
  return *b;
}

}  // namespace

SamplingMetrics::SamplingMetrics(prometheus::Registry& r)
    : requests_(
          prometheus::BuildCounter()
              .Name("proxflow_sampling_requests_total")
              .Help(
                  "Sample requests by result (ok, cancelled, rejected, error)")
              .Register(r)),
      samples_(NewCounter(r, "proxflow_sampling_images_total",
                          "Final samples (images or points) streamed")),
      first_image_(
          NewHistogram(r, "proxflow_sampling_time_to_first_image_seconds",
                       "From acceptance to the request's first final sample",
                       LatencyBuckets())),
      request_seconds_(NewHistogram(r, "proxflow_sampling_request_seconds",
                                    "From acceptance to the end of the request",
                                    LatencyBuckets())),
      queue_seconds_(NewHistogram(
          r, "proxflow_sampling_queue_seconds",
          "From acceptance to the request's first batch", LatencyBuckets())),
      compute_seconds_(
          NewHistogram(r, "proxflow_sampling_compute_seconds",
                       "Integration time of the batches a request took part in",
                       LatencyBuckets())),
      encode_seconds_(
          NewHistogram(r, "proxflow_sampling_encode_seconds",
                       "PNG/raw encoding and hashing time of a request's items",
                       LatencyBuckets())),
      batch_rows_(
          NewHistogram(r, "proxflow_sampling_batch_rows",
                       "Rows (samples) integrated together in one batch",
                       Buckets{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})),
      cache_lookups_(
          prometheus::BuildCounter()
              .Name("proxflow_sampling_model_cache_lookups_total")
              .Help("Model cache lookups per batch, by result (hit, miss)")
              .Register(r)),
      queued_(NewGauge(r, "proxflow_sampling_pending_requests",
                       "Requests with rows not yet started")),
      active_(NewGauge(r, "proxflow_sampling_active_requests",
                       "Requests accepted and not yet ended")),
      cache_bytes_(
          NewGauge(r, "proxflow_sampling_model_cache_bytes",
                   "Parameter bytes of the models loaded for sampling")) {
  for (const char* result : {"ok", "cancelled", "rejected", "error"})
    requests_.Add({{"result", result}});
  for (const char* result : {"hit", "miss"})
    cache_lookups_.Add({{"result", result}});
}

void SamplingMetrics::OnRejected() {
  requests_.Add({{"result", "rejected"}}).Increment();
}

void SamplingMetrics::OnEnded(const absl::Status& status,
                              const proxflow::v1::SampleSummary& summary,
                              double seconds) {
  const char* result = status.ok() ? "ok"
                       : status.code() == absl::StatusCode::kCancelled
                           ? "cancelled"
                           : "error";
  requests_.Add({{"result", result}}).Increment();
  request_seconds_.Observe(seconds);
  if (!status.ok()) return;
  queue_seconds_.Observe(summary.queue_seconds());
  compute_seconds_.Observe(summary.compute_seconds());
  encode_seconds_.Observe(summary.encode_seconds());
}

void SamplingMetrics::OnFirstImage(double seconds) {
  first_image_.Observe(seconds);
}

void SamplingMetrics::OnSamples(int count) { samples_.Increment(count); }

void SamplingMetrics::OnBatch(int rows) { batch_rows_.Observe(rows); }

void SamplingMetrics::OnCacheLookup(bool hit) {
  cache_lookups_.Add({{"result", hit ? "hit" : "miss"}}).Increment();
}

void SamplingMetrics::SetState(int queued, int active, int64_t cache_bytes) {
  queued_.Set(queued);
  active_.Set(active);
  cache_bytes_.Set(static_cast<double>(cache_bytes));
}

}  // namespace proxflow::server
