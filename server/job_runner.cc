// The execution half of JobManager: worker threads that run jobs, progress
// reporting, checkpoints and the heartbeat ticker.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/status_macros.h"
#include "core/options_resolver.h"
#include "google/protobuf/util/time_util.h"
#include "server/fault_point.h"
#include "server/job_manager.h"
#include "server/now_timestamp.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;
using google::protobuf::util::TimeUtil;

// Turns training callbacks into progress: rate over the window since the last
// report, ETA from that rate.
class ProgressTracker {
 public:
  ProgressTracker(int64_t start_step, int64_t max_step, int batch_size)
      : max_step_(max_step),
        batch_size_(batch_size),
        window_step_(start_step),
        window_start_(absl::Now()) {}

  // Whether a report for `step` is due (the last step always is).
  bool Due(int64_t step, absl::Duration min_interval) const {
    return step >= max_step_ || absl::Now() - last_report_ >= min_interval;
  }

  // Fills step, rate and ETA of `progress` and starts a new window.
  void Report(int64_t step, pb::JobProgress& progress) {
    const absl::Time now = absl::Now();
    const double seconds = absl::ToDoubleSeconds(now - window_start_);
    if (seconds > 0 && step > window_step_) {
      const double its = static_cast<double>(step - window_step_) / seconds;
      progress.set_samples_per_second(its * batch_size_);
      progress.set_eta_seconds(static_cast<double>(max_step_ - step) / its);
    }
    progress.set_step(step);
    window_step_ = step;
    window_start_ = now;
    last_report_ = now;
  }

 private:
  const int64_t max_step_;
  const int batch_size_;
  int64_t window_step_;
  absl::Time window_start_;
  absl::Time last_report_ = absl::InfinitePast();
};

void CopyMetrics(const core::Metrics& m,
                 google::protobuf::Map<std::string, double>& out) {
  out.clear();
  for (const auto& [name, value] : m.values) out[name] = value;
}

}  // namespace

void JobManager::WorkerLoop() {
  while (true) {
    ActiveJob* active = nullptr;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](JobManager* m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m->mu_) {
            return m->shutting_down_ || !m->queue_.empty();
          },
          this));
      if (shutting_down_) return;
      active = active_.at(queue_.front()).get();
      queue_.pop_front();
      active->running = true;
    }
    RunJob(*active);
    Finish(*active);
  }
}

void JobManager::TickerLoop() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&shutting_down_),
                               options_.heartbeat_interval)) {
    mu_.Unlock();
    hub_.Heartbeat();
    mu_.Lock();
  }
}

void JobManager::Finish(ActiveJob& active) {
  std::string id;
  {
    absl::MutexLock lock(&mu_);
    id = active.job.id();
    active_.erase(id);  // destroys `active`
  }
  hub_.Notify(id);
}

absl::Status JobManager::SaveCheckpoint(ActiveJob& active,
                                        const TrainingRun& run, int64_t step) {
  pb::Job job;
  std::string dataset_sha256;
  {
    absl::MutexLock lock(&mu_);
    job = active.job;
    dataset_sha256 = active.dataset_sha256;
  }
  if (job.checkpoint_step() == step && step > 0) return absl::OkStatus();
  const absl::Time start = absl::Now();
  TrainingSave save;
  absl::StatusOr<std::string> bytes = run.SerializeCheckpoint();
  if (!bytes.ok()) {
    if (options_.metrics != nullptr)
      options_.metrics->OnCheckpointSave(0, 0, false);
    return bytes.status();
  }
  save.bytes = *std::move(bytes);
  save.model = job.resolved_config().model();
  pb::Lineage& lineage = save.lineage;
  lineage.set_job_id(job.id());
  lineage.set_attempt(job.attempt());
  lineage.set_step(step);
  *lineage.mutable_resolved_config() = job.resolved_config();
  lineage.set_dataset_sha256(dataset_sha256);
  lineage.set_parent_uuid(job.resolved_config().init_from());
  for (const auto& [name, value] : job.progress().eval_metrics())
    save.metrics.emplace_back(name, value);
  std::sort(save.metrics.begin(), save.metrics.end());
  save.metrics_step = job.progress().eval_step();
  save.device = run.device();
  absl::StatusOr<pb::Checkpoint> stored =
      registry_->SaveTraining(std::move(save));
  if (options_.metrics != nullptr) {
    options_.metrics->OnCheckpointSave(
        absl::ToDoubleSeconds(absl::Now() - start),
        stored.ok() ? stored->size_bytes() : 0, stored.ok());
  }
  if (!stored.ok()) return stored.status();
  const pb::Checkpoint& saved = *stored;

  CrashPoint("job.after_checkpoint_saved");
  job.set_checkpoint_step(step);
  pb::JobEvent event;
  auto* note = event.mutable_checkpoint_saved();
  note->set_step(step);
  note->set_size_bytes(saved.size_bytes());
  note->set_sha256(saved.files(0).sha256());
  note->set_model(saved.model());
  note->set_version(saved.version());
  note->set_uuid(saved.uuid());
  return Commit(active, std::move(job), std::move(event));
}

void JobManager::RunJob(ActiveJob& active) {
  pb::Job job;
  {
    absl::MutexLock lock(&mu_);
    job = active.job;
  }
  const auto fail = [&](absl::string_view reason) {
    TransitionDurably(active, pb::JOB_STATE_FAILED, reason, [&](pb::Job& j) {
      j.set_failure_reason(std::string(reason));
      *j.mutable_end_time() = NowTimestamp();
    });
  };
  absl::StatusOr<core::TrainOptions> options =
      core::ResolveStoredTrainOptions(job.resolved_config());
  if (!options.ok()) return fail(options.status().message());

  DevicePool::Lease lease = devices_.Acquire();
  core::RuntimeOptions runtime;
  runtime.device = lease.device();
  runtime.classifier_cache_dir = options_.classifier_cache_dir;
  if (options->dataset.kind == core::DatasetKind::kMnist) {
    // Never a path from the stored config: only the operator's catalog.
    if (options_.mnist_dir.empty()) return fail(NoMnistError().message());
    runtime.mnist_dir = options_.mnist_dir;
  }
  if (options->dataset.kind == core::DatasetKind::kUploaded) {
    absl::StatusOr<std::string> path =
        datasets_->FilePath(options->dataset.uploaded_name);
    if (!path.ok()) return fail(path.status().message());
    runtime.uploaded_dataset_path = *path;
    absl::StatusOr<pb::Dataset> dataset =
        datasets_->Get(options->dataset.uploaded_name);
    if (!dataset.ok()) return fail(dataset.status().message());
    absl::MutexLock lock(&mu_);
    active.dataset_sha256 = dataset->sha256();
  }

  absl::StatusOr<std::unique_ptr<TrainingRun>> run;
  absl::StatusOr<ResumePoint> resume =
      job.checkpoint_step() > 0 ? NewestVerifiedCheckpoint(job.id())
                                : absl::StatusOr<ResumePoint>(ResumePoint{});
  if (!resume.ok()) return fail(resume.status().message());
  if (resume->step > 0) {
    run = backend_->Resume(resume->bytes, runtime);
  } else {
    // Fine-tuning starts from the (verified) weights of its parent version.
    std::string init;
    if (!options->resolved_config.init_from().empty()) {
      absl::StatusOr<pb::Checkpoint> parent = registry_->Resolve(
          options->resolved_config.init_from(), "training.init_from");
      absl::StatusOr<std::string> bytes =
          parent.ok() ? registry_->ReadVerified(*parent)
                      : absl::StatusOr<std::string>(parent.status());
      if (!bytes.ok()) {
        return fail(
            absl::StrCat("training.init_from: ", bytes.status().message()));
      }
      init = *std::move(bytes);
    }
    run = backend_->Start(*options, runtime, init);
  }
  resume->bytes.clear();
  if (!run.ok()) return fail(run.status().message());
  TrainingRun& r = **run;

  const int64_t start_step = r.iteration();
  const std::string device = r.device();
  std::string reason = start_step > 0
                           ? absl::StrCat("resumed from step ", start_step,
                                          " (", resume->ref, ")")
                           : std::string("started");
  if (!resume->notes.empty())
    absl::StrAppend(&reason, "; fell back past: ", resume->notes);
  if (!Transition(active, pb::JOB_STATE_RUNNING, reason, [&](pb::Job& j) {
         j.set_device(device);
         j.set_checkpoint_step(start_step);
         j.mutable_progress()->set_step(start_step);
         if (!j.has_start_time()) *j.mutable_start_time() = NowTimestamp();
       }).ok()) {
    return;
  }

  ProgressTracker tracker(start_step, options->iterations, options->batch_size);
  const auto report = [&](const std::function<void(pb::JobProgress&)>& edit) {
    pb::Job updated;
    {
      absl::MutexLock lock(&mu_);
      updated = active.job;
    }
    edit(*updated.mutable_progress());
    pb::JobEvent event;
    *event.mutable_progress() = updated.progress();
    // A failed progress write is not fatal: the next one carries it again.
    Commit(active, std::move(updated), std::move(event)).IgnoreError();
  };
  core::RunHooks hooks;
  hooks.on_log = [&](const core::Metrics& m) {
    if (!tracker.Due(m.iteration, options_.progress_min_interval)) return;
    report([&](pb::JobProgress& p) {
      tracker.Report(m.iteration, p);
      CopyMetrics(m, *p.mutable_metrics());
      p.set_metrics_step(m.iteration);
    });
  };
  hooks.on_eval = [&](const core::Metrics& m) {
    report([&](pb::JobProgress& p) {
      tracker.Report(m.iteration, p);
      CopyMetrics(m, *p.mutable_eval_metrics());
      p.set_eval_step(m.iteration);
    });
  };
  hooks.on_checkpoint = [&](int64_t step) {
    return SaveCheckpoint(active, r, step);
  };
  absl::StatusOr<core::RunResult> result = r.Run(hooks, &active.cancel);
  bool preempted = false;
  {
    absl::MutexLock lock(&mu_);
    preempted = active.preempted;
  }
  if (result.ok() && result->outcome == core::RunOutcome::kCompleted)
    if (absl::Status s = SaveCheckpoint(active, r, result->iteration); !s.ok())
      result = s;
  run->reset();  // frees the device's memory before the lease goes back
  if (!result.ok()) return fail(result.status().message());
  const auto ended = [&](int64_t step) {
    return [step](pb::Job& j) {
      j.mutable_progress()->set_step(step);
      j.mutable_progress()->set_eta_seconds(0);
      *j.mutable_end_time() = NowTimestamp();
    };
  };
  switch (result->outcome) {
    case core::RunOutcome::kCompleted:
      TransitionDurably(active, pb::JOB_STATE_SUCCEEDED, "completed",
                        ended(result->iteration));
      return;
    case core::RunOutcome::kCancelled:
      // Preempted by shutdown: the checkpoint is saved and the job stays
      // RUNNING in the store, so the next start resumes it.
      if (preempted) return;
      TransitionDurably(active, pb::JOB_STATE_CANCELLED, "cancelled by client",
                        ended(result->iteration));
      return;
    case core::RunOutcome::kDiverged:
      TransitionDurably(active, pb::JOB_STATE_FAILED, result->reason,
                        [&](pb::Job& j) {
                          ended(result->iteration)(j);
                          j.set_failure_reason(result->reason);
                        });
      return;
  }
}

}  // namespace proxflow::server
