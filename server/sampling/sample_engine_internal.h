// The engine's per-request state, shared by sample_engine.cc (queue,
// lifecycle) and sample_batch.cc (integration, encoding). Not public API.
#ifndef PROXFLOW_SERVER_SAMPLING_SAMPLE_ENGINE_INTERNAL_H_
#define PROXFLOW_SERVER_SAMPLING_SAMPLE_ENGINE_INTERNAL_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/sampling/sample_engine.h"

namespace proxflow::server {

// How requests whose call was cancelled (or ran past its deadline) end.
inline absl::Status CancelledByClient() {
  return absl::CancelledError("cancelled by the client");
}

struct SampleEngine::Request {
  Request(SamplePlan p, std::shared_ptr<SampleStream> s)
      : plan(std::move(p)),
        stream(std::move(s)),
        accepted_at(absl::Now()),
        key(absl::StrCat(plan.checkpoint.uuid(), "/",
                         static_cast<int>(plan.solver), "/", plan.steps, "/",
                         plan.trajectory_every)) {}

  const SamplePlan plan;
  const std::shared_ptr<SampleStream> stream;
  const absl::Time accepted_at;
  // Requests with equal keys may share a batch.
  const std::string key;

  // Rows handed to a worker so far. Guarded by the engine's mu_.
  int next_row = 0;
  // Raw bytes of the samples waiting for the encoders (their events are not
  // in the stream yet, but will be): counted against max_pending_bytes.
  std::atomic<int64_t> encoding_bytes{0};

  absl::Mutex mu;
  int rows_integrated ABSL_GUARDED_BY(mu) = 0;  // final states handed over
  int pending_tasks ABSL_GUARDED_BY(mu) = 0;    // encode tasks not yet run
  int samples_done ABSL_GUARDED_BY(mu) = 0;     // final items pushed
  bool ended ABSL_GUARDED_BY(mu) = false;
  bool started ABSL_GUARDED_BY(mu) = false;
  absl::Time last_progress ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  proxflow::v1::SampleSummary summary ABSL_GUARDED_BY(mu);
  // Point models with a scatter plot: every final sample, in index order.
  std::vector<float> points ABSL_GUARDED_BY(mu);
};

// Rows [begin, end) of a request, inside one batch.
struct SampleEngine::Slice {
  std::shared_ptr<Request> request;
  int begin = 0;
  int end = 0;
  int rows() const { return end - begin; }
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_SAMPLING_SAMPLE_ENGINE_INTERNAL_H_
