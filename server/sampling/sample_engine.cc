// The engine's queue and request lifecycle: admission, batch assembly, the
// encoder pool, ending requests. Integration of one batch: sample_batch.cc.
#include "server/sampling/sample_engine.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/options_resolver.h"
#include "proto/rpc/retry_info.h"
#include "server/sampling/sample_engine_internal.h"

namespace proxflow::server {

namespace pb = ::proxflow::v1;

absl::StatusOr<std::unique_ptr<SampleEngine>> SampleEngine::Create(
    SampleEngineOptions options, SamplingBackend* backend,
    CheckpointReader reader) {
  auto check = [](bool ok, absl::string_view what) {
    return ok ? absl::OkStatus()
              : absl::InvalidArgumentError(
                    absl::StrCat("sampling engine: ", what));
  };
  PROXFLOW_RETURN_IF_ERROR(check(!options.devices.empty(), "no device"));
  PROXFLOW_RETURN_IF_ERROR(
      check(options.max_batch >= 1 && options.max_batch <= 65536,
            absl::StrCat("max_batch must be in [1, 65536], got ",
                         options.max_batch)));
  PROXFLOW_RETURN_IF_ERROR(
      check(options.max_delay >= absl::ZeroDuration(),
            absl::StrCat("max_delay must be >= 0, got ",
                         absl::FormatDuration(options.max_delay))));
  PROXFLOW_RETURN_IF_ERROR(
      check(options.max_queued >= 1,
            absl::StrCat("max_queued must be >= 1, got ", options.max_queued)));
  PROXFLOW_RETURN_IF_ERROR(check(
      options.cache_bytes >= 0,
      absl::StrCat("cache_bytes must be >= 0, got ", options.cache_bytes)));
  PROXFLOW_RETURN_IF_ERROR(
      check(options.max_pending_bytes >= 1,
            absl::StrCat("max_pending_bytes must be >= 1, got ",
                         options.max_pending_bytes)));
  PROXFLOW_RETURN_IF_ERROR(
      check(options.encoder_threads >= 1 && options.encoder_threads <= 64,
            absl::StrCat("encoder_threads must be in [1, 64], got ",
                         options.encoder_threads)));
  PROXFLOW_RETURN_IF_ERROR(
      check(options.progress_interval >= absl::ZeroDuration(),
            "progress_interval must be >= 0"));
  PROXFLOW_RETURN_IF_ERROR(
      check(options.max_chunk_bytes >= 1 &&
                options.max_chunk_bytes <= kMaxSampleChunkBytes,
            "max_chunk_bytes must be in [1, 1 MiB]"));
  return std::unique_ptr<SampleEngine>(
      new SampleEngine(std::move(options), backend, std::move(reader)));
}

SampleEngine::SampleEngine(SampleEngineOptions options,
                           SamplingBackend* backend, CheckpointReader reader)
    : options_(std::move(options)),
      backend_(backend),
      reader_(std::move(reader)) {
  for (const std::string& device : options_.devices) {
    auto worker = std::make_unique<Worker>();
    worker->device = device;
    worker->cache = std::make_unique<ModelCache>(
        options_.cache_bytes,
        [this, device](const pb::Checkpoint& checkpoint)
            -> absl::StatusOr<std::unique_ptr<LoadedFlow>> {
          PROXFLOW_ASSIGN_OR_RETURN(std::string bytes, reader_(checkpoint));
          return backend_->Load(bytes, device);
        });
    workers_.push_back(std::move(worker));
  }
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->thread = std::thread([this, w] { WorkerLoop(w); });
  }
  for (int i = 0; i < options_.encoder_threads; ++i)
    encoders_.emplace_back([this] { EncoderLoop(); });
}

SampleEngine::~SampleEngine() { Shutdown(absl::Now()); }

absl::Status SampleEngine::Submit(SamplePlan plan,
                                  std::shared_ptr<SampleStream> stream) {
  auto request = std::make_shared<Request>(std::move(plan), std::move(stream));
  const SamplePlan& p = request->plan;
  pb::SampleEvent accepted_event;
  pb::SampleAccepted& a = *accepted_event.mutable_accepted();
  a.set_request_id(p.request_id);
  a.set_checkpoint_uuid(p.checkpoint.uuid());
  a.set_model(p.checkpoint.model());
  a.set_version(p.checkpoint.version());
  a.mutable_seeds()->Add(p.seeds.begin(), p.seeds.end());
  a.set_solver(core::SolverToProto(p.solver));
  a.set_steps(p.steps);
  a.set_dt(p.dt);
  a.set_encoding(p.encoding);
  for (int64_t s : p.sample_shape()) a.add_sample_shape(s);
  a.set_num_samples(p.num_samples());
  std::vector<std::shared_ptr<Request>> cancelled;
  {
    absl::MutexLock lock(&mu_);
    if (!accepting_) {
      if (options_.metrics != nullptr) options_.metrics->OnRejected();
      return absl::UnavailableError(
          "the server is shutting down and accepts no new samples");
    }
    cancelled = PruneQueueLocked();
    if (static_cast<int>(queue_.size()) >= options_.max_queued) {
      if (options_.metrics != nullptr) options_.metrics->OnRejected();
      return rpc::WithRetryDelay(
          absl::ResourceExhaustedError(
              absl::StrCat("the sampling queue is full (", queue_.size(),
                           " requests waiting, server --sample_max_queued ",
                           options_.max_queued, "); retry later")),
          RetryDelayLocked());
    }
    a.set_queue_position(static_cast<int>(queue_.size()));
    // Which worker serves it is decided later; with one device this is it.
    a.set_device(workers_.size() == 1 ? workers_[0]->device : "");
    // Accepted goes out before any worker can see the request.
    request->stream->Push({std::move(accepted_event)});
    queue_.push_back(request);
    ++counters_.active;
    work_cv_.SignalAll();
  }
  // Outside mu_: the hook runs at once if the call was already cancelled.
  request->stream->SetCancelHook([this] { OnStreamCancelled(); });
  EndCancelled(cancelled);
  return absl::OkStatus();
}

void SampleEngine::OnStreamCancelled() {
  std::vector<std::shared_ptr<Request>> cancelled;
  {
    absl::MutexLock lock(&mu_);
    ++counters_.cancels_seen;
    cancelled = PruneQueueLocked();
    work_cv_.SignalAll();
  }
  EndCancelled(cancelled);
}

void SampleEngine::EndCancelled(
    const std::vector<std::shared_ptr<Request>>& requests) {
  for (const auto& r : requests) End(*r, CancelledByClient());
}

std::vector<std::shared_ptr<SampleEngine::Request>>
SampleEngine::PruneQueueLocked() {
  std::vector<std::shared_ptr<Request>> cancelled;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->stream->cancelled()) {
      cancelled.push_back(*it);
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return cancelled;
}

bool SampleEngine::Dispatchable(const Request& r) const {
  return !r.stream->cancelled() && r.next_row < r.plan.num_samples() &&
         r.stream->pending_bytes() + r.encoding_bytes.load() <
             options_.max_pending_bytes;
}

std::vector<SampleEngine::Slice> SampleEngine::NextBatch() {
  const int64_t max_backlog = 4 * static_cast<int64_t>(options_.max_batch);
  mu_.Lock();
  while (true) {
    if (stopping_) break;
    std::vector<std::shared_ptr<Request>> cancelled = PruneQueueLocked();
    if (!cancelled.empty()) {
      mu_.Unlock();
      EndCancelled(cancelled);
      mu_.Lock();
      continue;
    }
    auto head = std::find_if(queue_.begin(), queue_.end(),
                             [&](const auto& r) { return Dispatchable(*r); });
    if (head == queue_.end() || encode_backlog_rows_ > max_backlog) {
      // Held-back streams drain without signalling: look again soon.
      const bool held_back =
          !queue_.empty() || encode_backlog_rows_ > max_backlog;
      work_cv_.WaitWithTimeout(
          &mu_, held_back ? absl::Milliseconds(10) : absl::Seconds(1));
      continue;
    }
    const std::string key = (*head)->key;
    int available = 0;
    for (const auto& r : queue_) {
      if (r->key == key && Dispatchable(*r))
        available += r->plan.num_samples() - r->next_row;
    }
    const absl::Time deadline = (*head)->accepted_at + options_.max_delay;
    if (available < options_.max_batch && absl::Now() < deadline) {
      work_cv_.WaitWithDeadline(&mu_, deadline);
      continue;
    }
    std::vector<Slice> slices;
    int rows = 0;
    for (auto it = queue_.begin();
         it != queue_.end() && rows < options_.max_batch;) {
      Request& r = **it;
      if (r.key != key || !Dispatchable(r)) {
        ++it;
        continue;
      }
      const int take = std::min(r.plan.num_samples() - r.next_row,
                                options_.max_batch - rows);
      slices.push_back(Slice{*it, r.next_row, r.next_row + take});
      r.next_row += take;
      rows += take;
      it = r.next_row == r.plan.num_samples() ? queue_.erase(it) : it + 1;
    }
    mu_.Unlock();
    return slices;
  }
  mu_.Unlock();
  return {};
}

void SampleEngine::WorkerLoop(Worker* worker) {
  while (true) {
    std::vector<Slice> slices = NextBatch();
    if (slices.empty()) return;  // stopping
    RunBatch(*worker, std::move(slices));
  }
}

void SampleEngine::PostEncode(std::shared_ptr<Request> request, int rows,
                              std::function<void()> task) {
  {
    absl::MutexLock lock(&request->mu);
    ++request->pending_tasks;
  }
  const int64_t bytes = static_cast<int64_t>(rows) * request->plan.dimension *
                        static_cast<int64_t>(sizeof(float));
  request->encoding_bytes += bytes;
  absl::MutexLock lock(&mu_);
  encode_backlog_rows_ += rows;
  encode_tasks_.push_back([this, request = std::move(request), rows, bytes,
                           task = std::move(task)] {
    task();  // pushes the events first
    request->encoding_bytes -= bytes;
    {
      absl::MutexLock lock(&mu_);
      encode_backlog_rows_ -= rows;
      work_cv_.SignalAll();
    }
    {
      absl::MutexLock lock(&request->mu);
      --request->pending_tasks;
    }
    MaybeComplete(request);
  });
  encode_cv_.Signal();
}

void SampleEngine::EncoderLoop() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      while (encode_tasks_.empty() && !joined_) encode_cv_.Wait(&mu_);
      if (encode_tasks_.empty()) return;  // workers gone, nothing left
      task = std::move(encode_tasks_.front());
      encode_tasks_.pop_front();
    }
    task();
  }
}

void SampleEngine::MaybeComplete(const std::shared_ptr<Request>& request) {
  {
    absl::MutexLock lock(&request->mu);
    if (request->ended || request->pending_tasks > 0 ||
        request->rows_integrated < request->plan.num_samples()) {
      return;
    }
  }
  End(*request, absl::OkStatus());
}

void SampleEngine::End(Request& request, absl::Status status) {
  std::vector<pb::SampleEvent> tail;
  double seconds = 0;
  {
    absl::MutexLock lock(&request.mu);
    if (request.ended) return;
    request.ended = true;
    if (status.ok() && request.plan.scatter_plot) {
      absl::StatusOr<EncodedItem> plot =
          EncodeScatterPlot(request.plan, request.points);
      if (plot.ok()) {
        request.summary.set_items(request.summary.items() + 1);
        request.summary.set_bytes(request.summary.bytes() +
                                  plot->done.size_bytes());
        AppendItemEvents(*std::move(plot), options_.max_chunk_bytes, &tail);
      } else {
        status = plot.status();
      }
    }
    if (status.ok()) *tail.emplace_back().mutable_summary() = request.summary;
    seconds = absl::ToDoubleSeconds(absl::Now() - request.accepted_at);
  }
  if (options_.metrics != nullptr) {
    options_.metrics->OnEnded(status,
                              status.ok()
                                  ? tail.back().summary()
                                  : pb::SampleSummary::default_instance(),
                              seconds);
  }
  if (status.ok()) request.stream->Push(std::move(tail));
  const bool cancelled = status.code() == absl::StatusCode::kCancelled;
  request.stream->Close(std::move(status));
  absl::MutexLock lock(&mu_);
  --counters_.active;
  if (cancelled) ++counters_.cancelled;
  mean_request_seconds_ = mean_request_seconds_ == 0
                              ? seconds
                              : 0.8 * mean_request_seconds_ + 0.2 * seconds;
  work_cv_.SignalAll();
}

absl::Duration SampleEngine::RetryDelayLocked() const {
  const double per_request =
      mean_request_seconds_ > 0 ? mean_request_seconds_ : 1.0;
  const double wait = per_request * static_cast<double>(queue_.size()) /
                      static_cast<double>(workers_.size());
  return std::clamp(absl::Seconds(wait), absl::Milliseconds(100),
                    absl::Seconds(30));
}

void SampleEngine::Shutdown(absl::Time deadline) {
  std::vector<std::shared_ptr<Request>> dropped;
  {
    absl::MutexLock lock(&mu_);
    if (joined_) return;
    accepting_ = false;
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return counters_.active == 0;
    };
    mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
    stopping_ = true;
    stop_.store(true);
    dropped.assign(queue_.begin(), queue_.end());
    queue_.clear();
    work_cv_.SignalAll();
  }
  for (auto& r : dropped)
    End(*r, absl::UnavailableError("the server is shutting down"));
  for (auto& w : workers_) w->thread.join();
  {
    absl::MutexLock lock(&mu_);
    joined_ = true;
    encode_cv_.SignalAll();
  }
  for (auto& t : encoders_) t.join();
}

pb::ListLoadedModelsResponse SampleEngine::LoadedModels() const {
  pb::ListLoadedModelsResponse out;
  for (const auto& w : workers_) {
    for (auto& m : w->cache->List()) *out.add_models() = std::move(m);
    out.set_cache_bytes(out.cache_bytes() + w->cache->bytes());
    out.set_cache_capacity_bytes(out.cache_capacity_bytes() +
                                 w->cache->capacity_bytes());
  }
  return out;
}

SampleEngine::Counters SampleEngine::counters() const {
  absl::MutexLock lock(&mu_);
  Counters c = counters_;
  c.queued = static_cast<int>(queue_.size());
  c.accepting = accepting_;
  return c;
}

}  // namespace proxflow::server
