// WatchJobReactor: the server stream of WatchJob.
//
// Replays stored events after `after_sequence`, then follows new ones as the
// job manager commits them, and finishes OK once the job is terminal and its
// last event was written. At most one write is in flight and events are read
// from the store in batches of 64, so a slow client costs bounded memory; a
// client a full batch behind gets consecutive progress events collapsed into
// the newest one (unless it asked for full_history). Heartbeats go out when
// nothing else is pending. Owned by gRPC: deletes itself in OnDone().
#ifndef PROXFLOW_SERVER_WATCH_JOB_REACTOR_H_
#define PROXFLOW_SERVER_WATCH_JOB_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proxflow/v1/training_service.pb.h"
#include "server/job_manager.h"

namespace proxflow::server {

class WatchJobReactor
    : public grpc::ServerWriteReactor<proxflow::v1::JobEvent> {
 public:
  // Starts streaming at once; the caller returns the reactor to gRPC.
  static WatchJobReactor* Start(JobManager* manager,
                                const proxflow::v1::WatchJobRequest& request);

  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_);
  void OnDone() override;

 private:
  WatchJobReactor(JobManager* manager, std::string job_id,
                  int64_t after_sequence, bool full_history);

  void Pump(bool heartbeat) ABSL_LOCKS_EXCLUDED(mu_);
  void PumpLocked(bool heartbeat) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  JobManager* const manager_;
  const std::string job_id_;
  const bool full_history_;
  absl::Mutex mu_;
  std::shared_ptr<EventHub::Subscription> subscription_ ABSL_GUARDED_BY(mu_);
  int64_t sent_ ABSL_GUARDED_BY(mu_);  // sequence of the last event written
  std::deque<proxflow::v1::JobEvent> pending_ ABSL_GUARDED_BY(mu_);
  proxflow::v1::JobEvent in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_WATCH_JOB_REACTOR_H_
