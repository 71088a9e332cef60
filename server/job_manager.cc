#include "server/job_manager.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/error_text.h"
#include "core/base/resource_name.h"
#include "core/base/sha256.h"
#include "core/base/status_macros.h"
#include "core/options_resolver.h"
#include "google/protobuf/util/time_util.h"
#include "proto/rpc/retry_info.h"
#include "server/now_timestamp.h"
#include "server/pagination.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;
using google::protobuf::util::TimeUtil;

constexpr int kDefaultPageSize = 50;

std::string NewJobId() {
  absl::BitGen gen;
  std::string raw(16, '\0');
  for (char& c : raw) c = static_cast<char>(absl::Uniform<uint8_t>(gen));
  return absl::StrCat("job-", absl::BytesToHexString(raw));
}

absl::Status NotFound(absl::string_view job_id) {
  return absl::NotFoundError(
      absl::StrCat("job ", QuoteForError(job_id), " not found"));
}

}  // namespace

JobManager::JobManager(JobManagerOptions options, JobStore* jobs,
                       DatasetStore* datasets, Registry* registry,
                       TrainingBackend* backend)
    : options_(std::move(options)),
      store_(jobs),
      datasets_(datasets),
      registry_(registry),
      backend_(backend),
      devices_(options_.devices) {}

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Create(
    JobManagerOptions options, JobStore* jobs, DatasetStore* datasets,
    Registry* registry, TrainingBackend* backend) {
  if (options.max_concurrent_jobs < 1 || options.queue_limit < 1 ||
      options.devices.empty()) {
    return absl::InvalidArgumentError(
        "job manager: max_concurrent_jobs and queue_limit must be >= 1, and "
        "at least one device is needed");
  }
  std::unique_ptr<JobManager> manager(
      new JobManager(std::move(options), jobs, datasets, registry, backend));
  PROXFLOW_RETURN_IF_ERROR(manager->Recover());
  for (int i = 0; i < manager->options_.max_concurrent_jobs; ++i)
    manager->threads_.emplace_back([m = manager.get()] { m->WorkerLoop(); });
  manager->threads_.emplace_back([m = manager.get()] { m->TickerLoop(); });
  return manager;
}

JobManager::~JobManager() { Shutdown(); }

absl::Status JobManager::Recover() {
  PROXFLOW_ASSIGN_OR_RETURN(std::vector<pb::Job> unfinished,
                            store_->ListUnfinished());
  for (pb::Job& job : unfinished) {
    const std::string id = job.id();
    const pb::JobState state = job.state();
    // The newest READY version's step; the worker verifies its file and
    // falls back when it must.
    int64_t step = 0;
    if (state != pb::JOB_STATE_QUEUED) {
      PROXFLOW_ASSIGN_OR_RETURN(std::vector<pb::Checkpoint> saved,
                                registry_->JobCheckpoints(id));
      if (!saved.empty()) step = saved.front().lineage().step();
    }
    absl::MutexLock lock(&mu_);
    auto active = std::make_unique<ActiveJob>();
    active->job = std::move(job);
    ActiveJob& a = *active;
    if (state == pb::JOB_STATE_CANCELLING) {
      PROXFLOW_RETURN_IF_ERROR(TransitionLocked(
          a, pb::JOB_STATE_CANCELLED,
          "server restarted while the job was cancelling",
          [](pb::Job& j) { *j.mutable_end_time() = NowTimestamp(); }));
      continue;
    }
    if (state != pb::JOB_STATE_QUEUED) {
      PROXFLOW_RETURN_IF_ERROR(TransitionLocked(
          a, pb::JOB_STATE_RESTARTING,
          absl::StrCat("server restarted; resuming from step ", step),
          [step](pb::Job& j) {
            j.set_attempt(j.attempt() + 1);
            j.set_checkpoint_step(step);
            j.mutable_progress()->set_step(step);
          }));
    }
    queue_.push_back(id);
    active_[id] = std::move(active);
  }
  return absl::OkStatus();
}

absl::StatusOr<JobManager::ResumePoint> JobManager::NewestVerifiedCheckpoint(
    const std::string& job_id) {
  PROXFLOW_ASSIGN_OR_RETURN(std::vector<pb::Checkpoint> saved,
                            registry_->JobCheckpoints(job_id));
  ResumePoint point;
  for (const pb::Checkpoint& c : saved) {
    absl::StatusOr<std::string> bytes = registry_->ReadVerified(c);
    if (bytes.ok()) {
      point.step = c.lineage().step();
      point.bytes = *std::move(bytes);
      point.ref = absl::StrCat(c.model(), "/", c.version());
      return point;
    }
    // A torn or corrupted file (now FAILED in the registry) falls back to
    // the version before; anything else is an error of its own.
    if (!absl::IsDataLoss(bytes.status())) return bytes.status();
    absl::StrAppend(&point.notes, point.notes.empty() ? "" : "; ",
                    bytes.status().message());
  }
  return point;
}

absl::Status JobManager::ResolveInitFrom(pb::TrainingConfig& config) {
  if (config.init_from().empty()) return absl::OkStatus();
  absl::StatusOr<pb::Checkpoint> parent =
      registry_->ResolveReady(config.init_from(), "training.init_from");
  if (absl::IsNotFound(parent.status())) {
    // Like an unknown dataset name, an unknown parent is a bad config.
    return absl::InvalidArgumentError(absl::StrCat(
        "training.init_from names no checkpoint (", parent.status().message(),
        "), got ", QuoteForError(config.init_from())));
  }
  if (!parent.ok()) {
    const absl::string_view message = parent.status().message();
    return absl::Status(parent.status().code(),
                        absl::StartsWith(message, "training.init_from")
                            ? std::string(message)
                            : absl::StrCat("training.init_from: ", message));
  }
  config.set_init_from(parent->uuid());
  return absl::OkStatus();
}

absl::Status JobManager::NoMnistError() {
  return absl::FailedPreconditionError(
      "training.dataset.kind is DATASET_KIND_MNIST but this server offers no "
      "MNIST: its operator starts proxflow-server with --datasets_root DIR, "
      "DIR/mnist holding the IDX files");
}

absl::Status JobManager::CheckDataset(const core::TrainOptions& options) {
  const std::string& path = options.resolved_config.dataset().mnist_dir();
  if (!path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training.dataset.mnist_dir names a directory on the server, which a "
        "remote config may not do: this server reads MNIST from its "
        "--datasets_root (drop the field), got ",
        QuoteForError(path)));
  }
  if (options.dataset.kind == core::DatasetKind::kMnist) {
    if (options_.mnist_dir.empty()) return NoMnistError();
    return absl::OkStatus();
  }
  if (options.dataset.kind != core::DatasetKind::kUploaded)
    return absl::OkStatus();
  absl::StatusOr<pb::Dataset> d = datasets_->Get(options.dataset.uploaded_name);
  if (absl::IsNotFound(d.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.dataset.uploaded_name names no uploaded "
                     "dataset, got ",
                     QuoteForError(options.dataset.uploaded_name)));
  }
  PROXFLOW_RETURN_IF_ERROR(d.status());
  if (d->dimension() != options.dataset.dimension) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training.dataset.dimension must equal the row length of dataset ",
        QuoteForError(d->name()), " (", d->dimension(), "), got ",
        options.dataset.dimension));
  }
  const int64_t need =
      std::max<int64_t>(options.batch_size, options.eval_batch_size);
  if (d->rows() < need) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training.batch_size and training.eval_batch_size must be <= the rows "
        "of dataset ",
        QuoteForError(d->name()), " (", d->rows(), "), got ", need));
  }
  return absl::OkStatus();
}

absl::StatusOr<JobManager::SubmitResult> JobManager::Submit(
    const pb::SubmitJobRequest& request) {
  if (!request.request_id().empty() &&
      !IsValidResourceName(request.request_id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id must be 0..128 characters of [A-Za-z0-9._-], "
                     "got ",
                     QuoteForError(request.request_id())));
  }
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(request.config()));
  PROXFLOW_RETURN_IF_ERROR(CheckJobLimits(options, options_.limits));
  PROXFLOW_RETURN_IF_ERROR(CheckDataset(options));
  PROXFLOW_RETURN_IF_ERROR(ResolveInitFrom(options.resolved_config));
  pb::Job job;
  *job.mutable_config() = request.config();
  *job.mutable_resolved_config() = options.resolved_config;
  job.mutable_progress()->set_max_step(options.iterations);
  if (request.validate_only()) return SubmitResult{std::move(job), false};

  const std::string body_sha256 =
      Sha256Hex(request.config().SerializeAsString());
  absl::MutexLock lock(&mu_);
  if (!request.request_id().empty()) {
    PROXFLOW_ASSIGN_OR_RETURN(auto match,
                              store_->FindByRequestId(request.request_id()));
    if (match) {
      if (match->body_sha256 != body_sha256) {
        return absl::AlreadyExistsError(
            absl::StrCat("request_id ", QuoteForError(request.request_id()),
                         " was already used by job ", match->job.id(),
                         " with a different config"));
      }
      return SubmitResult{std::move(match->job), false};
    }
  }
  if (shutting_down_)
    return absl::UnavailableError("server is shutting down; retry later");
  if (static_cast<int>(queue_.size()) >= options_.queue_limit) {
    return rpc::WithRetryDelay(
        absl::ResourceExhaustedError(
            absl::StrCat("job queue is full (", queue_.size(),
                         " jobs waiting, --queue_limit ", options_.queue_limit,
                         "); retry after a job finishes")),
        SoonestFinishLocked());
  }
  job.set_id(NewJobId());
  job.set_state(pb::JOB_STATE_QUEUED);
  job.set_attempt(1);
  job.set_request_id(request.request_id());
  *job.mutable_create_time() = NowTimestamp();
  job.set_last_sequence(1);
  pb::JobEvent event;
  event.set_job_id(job.id());
  event.set_sequence(1);
  *event.mutable_time() = job.create_time();
  auto* change = event.mutable_state_change();
  change->set_to(pb::JOB_STATE_QUEUED);
  change->set_attempt(1);
  change->set_reason("submitted");
  PROXFLOW_RETURN_IF_ERROR(
      store_->Insert(job, body_sha256,
                     options.dataset.kind == core::DatasetKind::kUploaded
                         ? options.dataset.uploaded_name
                         : "",
                     {event}));
  auto active = std::make_unique<ActiveJob>();
  active->job = job;
  active_[job.id()] = std::move(active);
  queue_.push_back(job.id());
  if (options_.metrics != nullptr) options_.metrics->OnSubmitted();
  return SubmitResult{std::move(job), true};
}

absl::Duration JobManager::SoonestFinishLocked() const {
  double eta = -1;
  for (const auto& [id, active] : active_) {
    const double e = active->job.progress().eta_seconds();
    if (active->running && e > 0 && (eta < 0 || e < eta)) eta = e;
  }
  // Unknown (nothing reported yet): a short default; known: the ETA of the
  // job that frees a worker first, within [1 s, 5 min].
  if (eta < 0) return absl::Seconds(5);
  return absl::Seconds(std::clamp(eta, 1.0, 300.0));
}

absl::StatusOr<pb::Job> JobManager::Get(const std::string& job_id) {
  PROXFLOW_ASSIGN_OR_RETURN(std::optional<pb::Job> job, store_->Get(job_id));
  if (!job) return NotFound(job_id);
  return *std::move(job);
}

absl::StatusOr<pb::ListJobsResponse> JobManager::List(
    const pb::ListJobsRequest& request) {
  PROXFLOW_ASSIGN_OR_RETURN(
      const int limit, ResolvePageSize(request.page_size(), kDefaultPageSize));
  std::vector<pb::JobState> states;
  for (int i = 0; i < request.states_size(); ++i) {
    const int s = request.states(i);
    if (!pb::JobState_IsValid(s) || s == pb::JOB_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("states[", i,
                       "] must be a JobState other than "
                       "JOB_STATE_UNSPECIFIED, got ",
                       s));
    }
    states.push_back(static_cast<pb::JobState>(s));
  }
  PROXFLOW_ASSIGN_OR_RETURN(
      const int64_t after,
      DecodeRowPageToken("ListJobs", request.page_token()));
  PROXFLOW_ASSIGN_OR_RETURN(JobStore::Page page,
                            store_->List(after, limit, states));
  pb::ListJobsResponse response;
  for (pb::Job& job : page.jobs) *response.add_jobs() = std::move(job);
  if (page.next_after > 0)
    response.set_next_page_token(EncodePageToken("ListJobs", page.next_after));
  return response;
}

absl::StatusOr<pb::Job> JobManager::Cancel(const std::string& job_id) {
  pb::Job job;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    if (it == active_.end()) return Get(job_id);  // finished: unchanged
    ActiveJob& a = *it->second;
    if (!a.running) {
      // Waiting in the queue: nothing to checkpoint or stop.
      PROXFLOW_RETURN_IF_ERROR(TransitionLocked(
          a, pb::JOB_STATE_CANCELLED, "cancelled by client",
          [](pb::Job& j) { *j.mutable_end_time() = NowTimestamp(); }));
      queue_.erase(std::remove(queue_.begin(), queue_.end(), job_id),
                   queue_.end());
      job = a.job;
      active_.erase(it);
    } else {
      if (a.job.state() == pb::JOB_STATE_RUNNING) {
        PROXFLOW_RETURN_IF_ERROR(TransitionLocked(
            a, pb::JOB_STATE_CANCELLING, "cancelled by client", nullptr));
      }
      // Also before RUNNING is committed: the worker checks the flag first.
      a.cancel = true;
      job = a.job;
    }
  }
  hub_.Notify(job_id);
  return job;
}

absl::StatusOr<JobManager::EventBatch> JobManager::Events(
    const std::string& job_id, int64_t after_sequence, int limit) {
  PROXFLOW_ASSIGN_OR_RETURN(pb::Job job, Get(job_id));
  EventBatch batch;
  batch.terminal = IsTerminalState(job.state());
  batch.last_sequence = job.last_sequence();
  PROXFLOW_ASSIGN_OR_RETURN(batch.events,
                            store_->Events(job_id, after_sequence, limit));
  return batch;
}

absl::Status JobManager::CommitLocked(ActiveJob& active, pb::Job updated,
                                      pb::JobEvent event) {
  const int64_t sequence = active.job.last_sequence() + 1;
  event.set_job_id(updated.id());
  event.set_sequence(sequence);
  *event.mutable_time() = NowTimestamp();
  updated.set_last_sequence(sequence);
  PROXFLOW_RETURN_IF_ERROR(store_->Update(updated, {event}));
  if (options_.metrics != nullptr)
    options_.metrics->OnCommit(active.job, updated, event);
  active.job = std::move(updated);
  return absl::OkStatus();
}

absl::Status JobManager::Commit(ActiveJob& active, pb::Job updated,
                                pb::JobEvent event) {
  std::string id;
  {
    absl::MutexLock lock(&mu_);
    id = active.job.id();
    PROXFLOW_RETURN_IF_ERROR(
        CommitLocked(active, std::move(updated), std::move(event)));
  }
  hub_.Notify(id);
  return absl::OkStatus();
}

absl::Status JobManager::TransitionLocked(ActiveJob& active, pb::JobState to,
                                          absl::string_view reason,
                                          const JobEdit& edit) {
  pb::Job updated = active.job;
  if (edit) edit(updated);
  pb::JobEvent event;
  auto* change = event.mutable_state_change();
  change->set_from(active.job.state());
  change->set_to(to);
  change->set_attempt(updated.attempt());
  change->set_step(updated.progress().step());
  change->set_reason(std::string(reason));
  updated.set_state(to);
  return CommitLocked(active, std::move(updated), std::move(event));
}

absl::Status JobManager::Transition(ActiveJob& active, pb::JobState to,
                                    absl::string_view reason,
                                    const JobEdit& edit) {
  std::string id;
  {
    absl::MutexLock lock(&mu_);
    id = active.job.id();
    PROXFLOW_RETURN_IF_ERROR(TransitionLocked(active, to, reason, edit));
  }
  hub_.Notify(id);
  return absl::OkStatus();
}

void JobManager::TransitionDurably(ActiveJob& active, pb::JobState to,
                                   absl::string_view reason,
                                   const JobEdit& edit) {
  absl::Duration backoff = absl::Milliseconds(100);
  std::string logged;
  while (true) {
    const absl::Status s = Transition(active, to, reason, edit);
    if (s.ok()) return;
    if (s.ToString() != logged) {
      logged = s.ToString();
      std::fprintf(stderr,
                   "proxflow-server: job %s: cannot record %s (%s); retrying "
                   "until the store accepts it\n",
                   active.job.id().c_str(), pb::JobState_Name(to).c_str(),
                   logged.c_str());
    }
    absl::MutexLock lock(&mu_);
    const auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return shutting_down_;
    };
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping), backoff)) return;
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

void JobManager::BeginDrain() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  hub_.Heartbeat();  // wakes every stream; they see draining() and end
}

bool JobManager::draining() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

void JobManager::Shutdown() {
  BeginDrain();
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, active] : active_) {
      if (!active->running) continue;
      active->preempted = true;
      active->cancel = true;
    }
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

absl::StatusOr<JobManager::JobCounts> JobManager::Counts() {
  JobCounts counts;
  PROXFLOW_ASSIGN_OR_RETURN(counts.by_state, store_->CountByState());
  absl::MutexLock lock(&mu_);
  counts.queued = static_cast<int64_t>(queue_.size());
  return counts;
}

}  // namespace proxflow::server
