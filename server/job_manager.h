// JobManager: owns every training job of the server: the bounded FIFO queue,
// the worker threads that run jobs, device leases, checkpoints, progress and
// the event log, and crash recovery.
//
// Owned by the server; RPC handlers call it and hold no state of their own.
// Thread-safe. Every change of a job is written to the JobStore together with
// the event describing it before anyone can observe it, so a restart never
// loses or duplicates events. No lock is held across a training call.
#ifndef PROXFLOW_SERVER_JOB_MANAGER_H_
#define PROXFLOW_SERVER_JOB_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/options.h"
#include "proxflow/v1/training_service.pb.h"
#include "server/device_pool.h"
#include "server/event_hub.h"
#include "server/job_limits.h"
#include "server/metrics/job_metrics.h"
#include "server/registry/registry.h"
#include "server/storage/dataset_store.h"
#include "server/storage/job_store.h"
#include "server/training_backend.h"

namespace proxflow::server {

struct JobManagerOptions {
  int max_concurrent_jobs = 1;                 // worker threads, >= 1
  int queue_limit = 64;                        // QUEUED jobs at most, >= 1
  std::vector<std::string> devices = {"cpu"};  // leased least-loaded first
  absl::Duration heartbeat_interval = absl::Seconds(10);
  // Progress events at most this often (the last step is always reported).
  absl::Duration progress_min_interval = absl::Milliseconds(200);
  JobMetrics* metrics = nullptr;  // not owned; null records nothing
  JobLimits limits;               // checked at submission
  // Rebuildable files of jobs (the MNIST class monitor's classifier weights,
  // core/class_monitor.h); empty: each MNIST job trains its classifier.
  std::string classifier_cache_dir;
  // Where MNIST jobs read MNIST (the --datasets_root catalog,
  // server/builtin_datasets.h); empty: this server offers no MNIST and refuses
  // MNIST jobs at submission with FAILED_PRECONDITION naming the flag.
  std::string mnist_dir;
};

class JobManager {
 public:
  // Recovers unfinished jobs from `jobs` (RUNNING and RESTARTING ones become
  // RESTARTING with attempt + 1 and the step of their newest READY registry
  // version; CANCELLING ones end CANCELLED), then starts the workers and the
  // heartbeat ticker. Jobs write their checkpoints into `registry` and resume
  // from it. The stores, registry and backend must outlive the manager.
  static absl::StatusOr<std::unique_ptr<JobManager>> Create(
      JobManagerOptions options, JobStore* jobs, DatasetStore* datasets,
      Registry* registry, TrainingBackend* backend);

  // Shutdown() then joins.
  ~JobManager();

  struct SubmitResult {
    proxflow::v1::Job job;
    bool created = false;
  };
  // Resolves the config (INVALID_ARGUMENT naming the field and value), checks
  // its dataset is one this server offers (an upload of the right shape, or
  // the catalog's MNIST; a config naming a server path, dataset.mnist_dir, is
  // INVALID_ARGUMENT), and queues a job unless validate_only.
  // Idempotent by request_id. RESOURCE_EXHAUSTED when the queue is full;
  // UNAVAILABLE after Shutdown() began.
  absl::StatusOr<SubmitResult> Submit(
      const proxflow::v1::SubmitJobRequest& request) ABSL_LOCKS_EXCLUDED(mu_);

  // NOT_FOUND for unknown ids.
  absl::StatusOr<proxflow::v1::Job> Get(const std::string& job_id);
  absl::StatusOr<proxflow::v1::ListJobsResponse> List(
      const proxflow::v1::ListJobsRequest& request);
  // QUEUED/RESTARTING jobs end CANCELLED at once; RUNNING ones go CANCELLING,
  // checkpoint and end CANCELLED; finished ones are returned unchanged.
  absl::StatusOr<proxflow::v1::Job> Cancel(const std::string& job_id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Up to `limit` stored events after `after_sequence`, plus whether the job
  // is terminal and its last sequence at the time of the read (a stream is
  // complete when it sent that sequence of a terminal job). NOT_FOUND for
  // unknown ids.
  struct EventBatch {
    std::vector<proxflow::v1::JobEvent> events;
    bool terminal = false;
    int64_t last_sequence = 0;
  };
  absl::StatusOr<EventBatch> Events(const std::string& job_id,
                                    int64_t after_sequence, int limit);
  EventHub& hub() { return hub_; }

  // Jobs in the store by state, and how many wait in the queue (metrics).
  struct JobCounts {
    std::map<proxflow::v1::JobState, int64_t> by_state;
    int64_t queued = 0;
  };
  absl::StatusOr<JobCounts> Counts() ABSL_LOCKS_EXCLUDED(mu_);

  // First step of shutdown: Submit() answers UNAVAILABLE and every watch
  // stream is woken to end (draining() is true). Idempotent.
  void BeginDrain() ABSL_LOCKS_EXCLUDED(mu_);
  bool draining() const ABSL_LOCKS_EXCLUDED(mu_);

  // BeginDrain(), then asks running jobs to checkpoint and stop (they stay
  // RUNNING in the store and resume on the next start) and joins every
  // thread. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A job that is queued or running: the authoritative copy of its Job.
  struct ActiveJob {
    proxflow::v1::Job job;
    std::atomic<bool> cancel{false};
    bool preempted = false;      // cancelled by Shutdown(), not by a client
    bool running = false;        // a worker has it
    std::string dataset_sha256;  // of an uploaded dataset, for lineage
  };

  JobManager(JobManagerOptions options, JobStore* jobs, DatasetStore* datasets,
             Registry* registry, TrainingBackend* backend);

  absl::Status Recover() ABSL_LOCKS_EXCLUDED(mu_);
  // The newest READY registry version of `job_id` whose file verifies, and its
  // bytes; a version that fails verification becomes FAILED in the registry
  // and the one before is tried (`notes` says which failed). Step 0 and no
  // bytes when none is left.
  struct ResumePoint {
    int64_t step = 0;
    std::string bytes;
    std::string ref;    // "model/7"
    std::string notes;  // integrity failures met on the way
  };
  absl::StatusOr<ResumePoint> NewestVerifiedCheckpoint(
      const std::string& job_id);
  // When a queued job can expect a worker: the smallest ETA of the running
  // jobs, clamped to [1 s, 5 min]; 5 s when none reported one yet.
  absl::Duration SoonestFinishLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replaces a fine-tuning ref (training.init_from) by the uuid of the READY
  // version it names, so that later alias moves cannot change the job; errors
  // name the field.
  absl::Status ResolveInitFrom(proxflow::v1::TrainingConfig& config);
  // Checks the dataset is one this server offers: no server path in the
  // config, MNIST only from the catalog, an upload of the right shape.
  absl::Status CheckDataset(const core::TrainOptions& options);
  // FAILED_PRECONDITION naming training.dataset.kind and --datasets_root.
  static absl::Status NoMnistError();

  // Makes `updated` the job's state and appends `event` (job id, sequence and
  // time filled in), persisting both in one transaction; on a store error the
  // in-memory job is unchanged. The caller notifies watchers once mu_ is
  // released (Commit() does).
  absl::Status CommitLocked(ActiveJob& active, proxflow::v1::Job updated,
                            proxflow::v1::JobEvent event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Commit(ActiveJob& active, proxflow::v1::Job updated,
                      proxflow::v1::JobEvent event) ABSL_LOCKS_EXCLUDED(mu_);
  // A state change: `edit` adjusts the copy (timestamps, reason) before it is
  // committed with a JobStateChange event.
  using JobEdit = std::function<void(proxflow::v1::Job&)>;
  absl::Status TransitionLocked(ActiveJob& active, proxflow::v1::JobState to,
                                absl::string_view reason, const JobEdit& edit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Transition(ActiveJob& active, proxflow::v1::JobState to,
                          absl::string_view reason, const JobEdit& edit)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Transition() to a terminal state, retried while the store refuses it (a
  // full disk): watchers must see the end once space is back. Logs the
  // refusal once per distinct error. Gives up only when shutdown begins, and
  // then the job, still unfinished in the store, resumes at the next start.
  void TransitionDurably(ActiveJob& active, proxflow::v1::JobState to,
                         absl::string_view reason, const JobEdit& edit)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Saves `run` at `step` as a registry version of the job's model (which
  // applies the job's retention) and records a CheckpointSaved event. Does
  // nothing when `step` is already the newest checkpoint.
  absl::Status SaveCheckpoint(ActiveJob& active, const TrainingRun& run,
                              int64_t step) ABSL_LOCKS_EXCLUDED(mu_);

  void WorkerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void TickerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Runs one job to its end on the calling worker thread.
  void RunJob(ActiveJob& active) ABSL_LOCKS_EXCLUDED(mu_);
  void Finish(ActiveJob& active) ABSL_LOCKS_EXCLUDED(mu_);

  const JobManagerOptions options_;
  JobStore* const store_;
  DatasetStore* const datasets_;
  Registry* const registry_;
  TrainingBackend* const backend_;
  DevicePool devices_;
  EventHub hub_;

  mutable absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<ActiveJob>> active_
      ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_JOB_MANAGER_H_
