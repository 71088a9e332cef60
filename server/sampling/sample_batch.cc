// One micro-batch: load (cache), integrate step by step with cancellation,
// progress and trajectory frames, then hand the outputs to the encoders.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/sampling/sample_engine.h"
#include "server/sampling/sample_engine_internal.h"

namespace proxflow::server {
namespace {

namespace pb = ::proxflow::v1;

// Values of rows [first, first + rows) of `points`.
std::vector<float> Rows(const core::PointSamples& points, int64_t first,
                        int rows) {
  const auto begin = points.values.begin() + first * points.dimension;
  return std::vector<float>(begin, begin + rows * points.dimension);
}

}  // namespace

void SampleEngine::RunBatch(Worker& worker, std::vector<Slice> slices) {
  // The batch's key. Held by its own reference: the first request may be
  // cancelled and freed mid-batch (a use after free the load test found).
  const std::shared_ptr<Request> key = slices.front().request;
  const SamplePlan& plan = key->plan;
  int rows = 0;
  std::vector<uint64_t> seeds;
  for (const Slice& s : slices) {
    rows += s.rows();
    seeds.insert(seeds.end(), s.request->plan.seeds.begin() + s.begin,
                 s.request->plan.seeds.begin() + s.end);
  }
  // Distinct requests (a request appears once per batch).
  absl::StatusOr<ModelCache::Lease> lease =
      worker.cache->Get(plan.checkpoint, static_cast<int>(slices.size()), rows);
  const absl::Time start = absl::Now();
  if (options_.metrics != nullptr) {
    options_.metrics->OnBatch(rows);
    if (lease.ok()) options_.metrics->OnCacheLookup(lease->hit);
  }
  for (const Slice& s : slices) {
    absl::MutexLock lock(&s.request->mu);
    pb::SampleSummary& sum = s.request->summary;
    if (!s.request->started) {
      s.request->started = true;
      sum.set_queue_seconds(
          absl::ToDoubleSeconds(start - s.request->accepted_at));
      sum.set_model_cache_hit(lease.ok() && lease->hit);
      if (lease.ok()) sum.set_load_seconds(lease->load_seconds);
    }
    sum.set_batches(sum.batches() + 1);
    sum.set_batch_size(std::max(sum.batch_size(), rows));
  }
  auto fail_all = [&](const absl::Status& status) {
    for (const Slice& s : slices) End(*s.request, status);
  };
  if (!lease.ok()) return fail_all(lease.status());
  absl::StatusOr<std::unique_ptr<IntegrationRun>> run =
      lease->flow->Start(seeds, plan.solver, plan.steps);
  if (!run.ok()) {
    return fail_all(absl::InternalError(
        absl::StrCat("sampling could not start: ", run.status().message())));
  }
  // Live slices and where their rows sit in the run.
  std::vector<Slice> live = std::move(slices);
  auto drop_cancelled = [&]() -> absl::Status {
    std::vector<int64_t> keep;
    std::vector<Slice> still;
    int64_t offset = 0;
    for (Slice& s : live) {
      const int n = s.rows();
      if (s.request->stream->cancelled()) {
        End(*s.request, CancelledByClient());
      } else {
        for (int i = 0; i < n; ++i) keep.push_back(offset + i);
        still.push_back(std::move(s));
      }
      offset += n;
    }
    const bool dropped = still.size() < live.size();
    live = std::move(still);
    return dropped ? (*run)->KeepRows(keep) : absl::OkStatus();
  };
  // Encodes the current state of every live slice as `kind` at `step`.
  auto emit = [&](pb::SampleItemKind kind, int step) -> absl::Status {
    absl::StatusOr<core::PointSamples> points = (*run)->Points();
    if (!points.ok()) return points.status();
    int64_t offset = 0;
    for (const Slice& s : live) {
      std::shared_ptr<Request> request = s.request;
      const bool final = kind == pb::SAMPLE_ITEM_KIND_SAMPLE;
      PostEncode(request, s.rows(),
                 [this, request, kind, step, final, begin = s.begin,
                  count = s.rows(), values = Rows(*points, offset, s.rows())] {
                   EncodeAndPush(*request, kind, begin, count, step, final,
                                 values);
                 });
      if (final) {
        absl::MutexLock lock(&request->mu);
        request->rows_integrated += s.rows();
      }
      offset += s.rows();
    }
    return absl::OkStatus();
  };
  // Progress per slice at its last step, and in between at most every
  // progress_interval per request (a large request of small samples would
  // otherwise spend its stream on progress).
  auto progress = [&](int step) {
    const absl::Time now = absl::Now();
    for (const Slice& s : live) {
      {
        absl::MutexLock lock(&s.request->mu);
        if (step < plan.steps &&
            now - s.request->last_progress < options_.progress_interval) {
          continue;
        }
        s.request->last_progress = now;
      }
      pb::SampleEvent event;
      pb::SampleProgress& p = *event.mutable_progress();
      p.set_index(s.begin);
      p.set_count(s.rows());
      p.set_step(step);
      p.set_steps(plan.steps);
      {
        absl::MutexLock lock(&s.request->mu);
        p.set_samples_done(s.request->samples_done);
      }
      s.request->stream->Push({std::move(event)});
    }
  };

  absl::Status status;
  if (plan.trajectory_every > 0) {
    status = emit(pb::SAMPLE_ITEM_KIND_TRAJECTORY_FRAME, 0);
  }
  for (int step = 1; status.ok() && step <= plan.steps; ++step) {
    if (stop_.load()) {
      status = absl::UnavailableError("the server is shutting down");
      break;
    }
    status = drop_cancelled();
    if (!status.ok() || live.empty()) break;
    status = (*run)->Step();
    if (!status.ok()) break;
    progress(step);
    if (plan.trajectory_every > 0 && step < plan.steps &&
        step % plan.trajectory_every == 0) {
      status = emit(pb::SAMPLE_ITEM_KIND_TRAJECTORY_FRAME, step);
    }
  }
  if (status.ok() && !live.empty()) {
    status = drop_cancelled();
    if (status.ok() && !live.empty())
      status = emit(pb::SAMPLE_ITEM_KIND_SAMPLE, plan.steps);
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (const Slice& s : live) {
    {
      absl::MutexLock lock(&s.request->mu);
      s.request->summary.set_compute_seconds(
          s.request->summary.compute_seconds() + seconds);
    }
    if (!status.ok()) {
      End(*s.request, status.code() == absl::StatusCode::kUnavailable
                          ? status
                          : absl::InternalError(absl::StrCat(
                                "sampling failed: ", status.message())));
    } else {
      MaybeComplete(s.request);
    }
  }
}

void SampleEngine::EncodeAndPush(Request& request, pb::SampleItemKind kind,
                                 int index, int count, int step, bool final,
                                 const std::vector<float>& values) {
  {
    absl::MutexLock lock(&request.mu);
    if (request.ended) return;
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<EncodedItem>> items =
      EncodeSamples(request.plan, kind, index, step, values.data(), count);
  if (!items.ok()) {
    End(request, absl::InternalError(absl::StrCat("encoding samples failed: ",
                                                  items.status().message())));
    return;
  }
  std::vector<pb::SampleEvent> events;
  int64_t bytes = 0;
  const int n = static_cast<int>(items->size());
  for (EncodedItem& item : *items) {
    bytes += item.done.size_bytes();
    AppendItemEvents(std::move(item), options_.max_chunk_bytes, &events);
  }
  request.stream->Push(std::move(events));
  absl::MutexLock lock(&request.mu);
  pb::SampleSummary& sum = request.summary;
  sum.set_encode_seconds(sum.encode_seconds() +
                         absl::ToDoubleSeconds(absl::Now() - start));
  sum.set_items(sum.items() + n);
  sum.set_bytes(sum.bytes() + bytes);
  if (final) {
    if (options_.metrics != nullptr) {
      if (request.samples_done == 0) {
        options_.metrics->OnFirstImage(
            absl::ToDoubleSeconds(absl::Now() - request.accepted_at));
      }
      options_.metrics->OnSamples(count);
    }
    request.samples_done += count;
    if (request.plan.scatter_plot) {
      const size_t d = request.plan.dimension;
      request.points.resize(request.plan.seeds.size() * d);
      std::copy(values.begin(), values.end(),
                request.points.begin() + index * d);
    }
  }
}

}  // namespace proxflow::server
