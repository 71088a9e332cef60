// SampleStream: the events of one Sample call on their way from the engine
// (integration and encoder threads) to the RPC reactor that writes them.
//
// Producers Push events and finally Close with a status; the consumer Pops. A
// Pop that finds nothing registers the consumer as waiting, and the next Push
// or Close calls its waker once (outside every lock; the waker must tolerate
// being called after the consumer stopped caring). Cancel() (client cancel,
// deadline, failed write) tells producers to stop: the engine drops the
// request's rows before its next integration step. Pending (pushed, not yet
// popped) bytes are counted so that the engine can hold back work for a slow
// client instead of buffering without bound. Thread-safe.
#ifndef PROXFLOW_SERVER_SAMPLING_SAMPLE_STREAM_H_
#define PROXFLOW_SERVER_SAMPLING_SAMPLE_STREAM_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "proxflow/v1/sampling_service.pb.h"

namespace proxflow::server {

class SampleStream {
 public:
  explicit SampleStream(std::function<void()> waker)
      : waker_(std::move(waker)) {}

  // Appends events in order; ignored once closed.
  void Push(std::vector<proxflow::v1::SampleEvent> events)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the stream after the events pushed so far; the first Close wins.
  void Close(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);

  enum class PopResult { kEvent, kEmpty, kClosed };
  // kEvent: *event is the next one. kEmpty: nothing yet, the waker will be
  // called. kClosed: everything was popped; *status is the final status.
  PopResult Pop(proxflow::v1::SampleEvent* event, absl::Status* status)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Marks the stream cancelled and runs the cancel hook (once).
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);
  // Called once on the first Cancel() (at once if already cancelled). The
  // engine uses it to free a queued request's place without waiting for a
  // worker. Must not call back into the stream's consumer.
  void SetCancelHook(std::function<void()> hook) ABSL_LOCKS_EXCLUDED(mu_);
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Bytes pushed and not yet popped.
  int64_t pending_bytes() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void WakeIfWaiting(bool waiting);

  const std::function<void()> waker_;
  std::atomic<bool> cancelled_{false};
  mutable absl::Mutex mu_;
  // Events with their serialized sizes (computed once, on Push).
  std::deque<std::pair<proxflow::v1::SampleEvent, int64_t>> events_
      ABSL_GUARDED_BY(mu_);
  int64_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Status> final_ ABSL_GUARDED_BY(mu_);
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> cancel_hook_ ABSL_GUARDED_BY(mu_);
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_SAMPLING_SAMPLE_STREAM_H_
