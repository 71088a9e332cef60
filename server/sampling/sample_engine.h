// SampleEngine: runs Sample requests on the server's devices.
//
// Requests wait in one bounded FIFO queue. One worker thread per device takes
// the oldest request it can serve and micro-batches it with the other queued
// requests for the same checkpoint, solver, step count and frame interval, up
// to max_batch rows; when the batch is not full it waits at most max_delay
// after the oldest request arrived. Requests larger than max_batch run in
// slices. Rows never influence each other (core::SamplingRun), so batching
// never changes a sample's bytes.
//
// Between integration steps the worker drops the rows of cancelled requests
// (client cancel, deadline: SampleStream::Cancel) and stops when none are
// left, so a cancelled request frees its rows within one step. Encoding (PNG,
// raw, sha256) runs on encoder threads. A client that does not read its stream
// is held back: no new slice starts for it while max_pending_bytes of its
// events are unread or still being encoded (raw size), and the worker waits
// while the encoders are behind by more than 4·max_batch rows, so memory stays
// bounded by the settings, never by client speed.
//
// Thread-safe.
#ifndef PROXFLOW_SERVER_SAMPLING_SAMPLE_ENGINE_H_
#define PROXFLOW_SERVER_SAMPLING_SAMPLE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proxflow/v1/sampling_service.pb.h"
#include "server/metrics/sampling_metrics.h"
#include "server/sampling/model_cache.h"
#include "server/sampling/sample_output.h"
#include "server/sampling/sample_plan.h"
#include "server/sampling/sample_stream.h"
#include "server/sampling/sampling_backend.h"

namespace proxflow::server {

struct SampleEngineOptions {
  std::vector<std::string> devices = {"cpu"};  // one worker each
  int max_batch = 64;                          // rows integrated together
  absl::Duration max_delay = absl::Milliseconds(2);
  int max_queued = 64;  // requests waiting (RESOURCE_EXHAUSTED)
  int64_t cache_bytes = int64_t{1} << 30;  // per device
  int64_t max_pending_bytes = 8 << 20;     // unread bytes per stream
  int encoder_threads = 1;
  size_t max_chunk_bytes = kMaxSampleChunkBytes;
  // Progress events: each slice's last step, and other steps at most this
  // often per request (0: every step).
  absl::Duration progress_interval = absl::Milliseconds(50);
  SamplingMetrics* metrics = nullptr;  // not owned; null records nothing
};

class SampleEngine {
 public:
  // Reads a READY checkpoint's file, verified (Registry::ReadVerified).
  using CheckpointReader = std::function<absl::StatusOr<std::string>(
      const proxflow::v1::Checkpoint&)>;

  // INVALID_ARGUMENT for out-of-range options. `backend` must outlive the
  // engine.
  static absl::StatusOr<std::unique_ptr<SampleEngine>> Create(
      SampleEngineOptions options, SamplingBackend* backend,
      CheckpointReader reader);
  ~SampleEngine();  // Shutdown(now)

  // Queues `plan`; every event goes to `stream` (accepted first, pushed before
  // this returns, so call it before the stream's first Pop), which the engine
  // closes when the request ends.
  // RESOURCE_EXHAUSTED with a retry delay when the queue is full; UNAVAILABLE
  // after Shutdown.
  absl::Status Submit(SamplePlan plan, std::shared_ptr<SampleStream> stream)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Stops accepting, lets queued and running requests finish until
  // `deadline`, then ends the rest UNAVAILABLE and joins every thread.
  // Idempotent.
  void Shutdown(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);

  proxflow::v1::ListLoadedModelsResponse LoadedModels() const;

  struct Counters {
    int queued = 0;            // requests with rows not yet started
    int active = 0;            // accepted and not yet ended
    int64_t cancelled = 0;     // requests ended CANCELLED
    int64_t cancels_seen = 0;  // SampleStream::Cancel() calls observed
    bool accepting = true;     // false once Shutdown began
  };
  Counters counters() const ABSL_LOCKS_EXCLUDED(mu_);

  struct Request;  // engine-internal (sample_engine_internal.h)
  struct Slice;

 private:
  struct Worker {
    std::string device;
    std::unique_ptr<ModelCache> cache;
    std::thread thread;
  };

  SampleEngine(SampleEngineOptions options, SamplingBackend* backend,
               CheckpointReader reader);
  void WorkerLoop(Worker* worker) ABSL_LOCKS_EXCLUDED(mu_);
  void EncoderLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Removes cancelled requests from the queue; the caller ends them once it
  // released mu_.
  std::vector<std::shared_ptr<Request>> PruneQueueLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndCancelled(const std::vector<std::shared_ptr<Request>>& requests)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The next batch (slices dispatched), waiting up to max_delay to fill it;
  // empty once stopping.
  std::vector<Slice> NextBatch() ABSL_LOCKS_EXCLUDED(mu_);
  bool Dispatchable(const Request& r) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Integrates one batch and hands its outputs to the encoders
  // (sample_batch.cc).
  void RunBatch(Worker& worker, std::vector<Slice> slices)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Encodes `count` samples from `index` (values: count × dimension) and
  // pushes their events (an encoder thread; skipped once the request ended).
  void EncodeAndPush(Request& request, proxflow::v1::SampleItemKind kind,
                     int index, int count, int step, bool final,
                     const std::vector<float>& values) ABSL_LOCKS_EXCLUDED(mu_);
  void PostEncode(std::shared_ptr<Request> request, int rows,
                  std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends `request` with `status` (OK: scatter plot and summary first).
  void End(Request& request, absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends `request` OK once all its rows are integrated and encoded.
  void MaybeComplete(const std::shared_ptr<Request>& request)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A stream was cancelled: end it at once if it is only queued.
  void OnStreamCancelled() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration RetryDelayLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SampleEngineOptions options_;
  SamplingBackend* const backend_;
  const CheckpointReader reader_;

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;    // queue changed, encoders caught up, stopping
  absl::CondVar encode_cv_;  // encode task posted, stopping
  std::deque<std::shared_ptr<Request>> queue_ ABSL_GUARDED_BY(mu_);
  std::deque<std::function<void()>> encode_tasks_ ABSL_GUARDED_BY(mu_);
  int64_t encode_backlog_rows_ ABSL_GUARDED_BY(mu_) = 0;
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // workers and encoders exit
  bool joined_ ABSL_GUARDED_BY(mu_) = false;    // workers joined
  std::atomic<bool> stop_{false};  // = stopping_, read between steps
  Counters counters_ ABSL_GUARDED_BY(mu_);
  double mean_request_seconds_ ABSL_GUARDED_BY(mu_) = 0;  // EWMA

  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> encoders_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_SAMPLING_SAMPLE_ENGINE_H_
