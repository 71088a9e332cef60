#include "server/metrics/job_metrics.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "google/protobuf/util/time_util.h"
#include "server/metrics/families.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;
using google::protobuf::util::TimeUtil;
using Buckets = prometheus::Histogram::BucketBoundaries;

std::string Lower(pb::JobState state) {
  std::string name = pb::JobState_Name(state).substr(sizeof("JOB_STATE_") - 1);
  return absl::AsciiStrToLower(name);
}

}  // namespace

JobMetrics::JobMetrics(prometheus::Registry& r,
                       const std::vector<std::string>& devices)
    : submitted_(NewCounter(r, "proxflow_jobs_submitted_total",
                            "Training jobs accepted by SubmitJob (retries with "
                            "a known request_id excluded)")),
      finished_(
          prometheus::BuildCounter()
              .Name("proxflow_jobs_finished_total")
              .Help("Training jobs that reached a terminal state, by result")
              .Register(r)),
      restarted_(NewCounter(r, "proxflow_jobs_restarted_total",
                            "Jobs turned RESTARTING after the server stopped "
                            "while they ran")),
      queue_wait_(NewHistogram(
          r, "proxflow_job_queue_wait_seconds",
          "Time from submission to the first start of a job",
          Buckets{0.01, 0.1, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600})),
      iterations_(NewCounter(r, "proxflow_training_iterations_total",
                             "Generator iterations completed by all jobs")),
      iteration_seconds_(NewHistogram(
          r, "proxflow_training_iteration_seconds",
          "Mean time of one generator iteration over each progress "
          "report window",
          Buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                  2.5, 5, 10})),
      samples_per_second_(prometheus::BuildGauge()
                              .Name("proxflow_training_samples_per_second")
                              .Help("Training samples per second of the latest "
                                    "progress report, by device")
                              .Register(r)),
      saves_(prometheus::BuildCounter()
                 .Name("proxflow_checkpoint_saves_total")
                 .Help("Checkpoint saves by training, by result")
                 .Register(r)),
      save_seconds_(
          NewHistogram(r, "proxflow_checkpoint_save_seconds",
                       "Time to serialise and durably store a checkpoint",
                       Buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                               5, 10, 30})),
      saved_bytes_(NewCounter(r, "proxflow_checkpoint_saved_bytes_total",
                              "Bytes of checkpoints saved by training")),
      jobs_(prometheus::BuildGauge()
                .Name("proxflow_jobs")
                .Help("Jobs in the store, by state")
                .Register(r)),
      queue_length_(NewGauge(r, "proxflow_job_queue_length",
                             "Jobs waiting for a worker")),
      evaluation_(prometheus::BuildGauge()
                      .Name("proxflow_job_evaluation")
                      .Help("The latest evaluation of each unfinished job, by "
                            "job and metric (MNIST: class_coverage, "
                            "largest_class_share, class_entropy, frechet)")
                      .Register(r)) {
  for (const char* result : {"succeeded", "failed", "cancelled"})
    finished_.Add({{"result", result}});
  for (const char* result : {"ok", "error"}) saves_.Add({{"result", result}});
  for (const std::string& device : devices)
    samples_per_second_.Add({{"device", device}});
  for (int s = pb::JobState_MIN + 1; s <= pb::JobState_MAX; ++s)
    jobs_.Add({{"state", Lower(static_cast<pb::JobState>(s))}});
}

void JobMetrics::OnSubmitted() { submitted_.Increment(); }

void JobMetrics::OnCommit(const pb::Job& before, const pb::Job& after,
                          const pb::JobEvent& event) {
  if (event.has_state_change()) {
    const pb::JobState to = event.state_change().to();
    if (to == pb::JOB_STATE_SUCCEEDED || to == pb::JOB_STATE_FAILED ||
        to == pb::JOB_STATE_CANCELLED) {
      finished_.Add({{"result", Lower(to)}}).Increment();
      absl::MutexLock lock(&mu_);
      auto it = evaluation_series_.find(after.id());
      if (it != evaluation_series_.end()) {
        for (prometheus::Gauge* g : it->second) evaluation_.Remove(g);
        evaluation_series_.erase(it);
      }
    } else if (to == pb::JOB_STATE_RESTARTING) {
      restarted_.Increment();
    } else if (to == pb::JOB_STATE_RUNNING && !before.has_start_time() &&
               after.has_start_time()) {
      queue_wait_.Observe(TimeUtil::DurationToNanoseconds(after.start_time() -
                                                          after.create_time()) *
                          1e-9);
    }
    return;
  }
  if (!event.has_progress()) return;
  if (after.progress().eval_step() != before.progress().eval_step() &&
      !after.progress().eval_metrics().empty()) {
    absl::MutexLock lock(&mu_);
    std::vector<prometheus::Gauge*>& series = evaluation_series_[after.id()];
    for (const auto& [name, value] : after.progress().eval_metrics()) {
      prometheus::Gauge& g =
          evaluation_.Add({{"job", after.id()}, {"metric", name}});
      g.Set(value);
      if (std::find(series.begin(), series.end(), &g) == series.end())
        series.push_back(&g);
    }
  }
  const int64_t steps = after.progress().step() - before.progress().step();
  if (steps > 0) iterations_.Increment(static_cast<double>(steps));
  const double rate = after.progress().samples_per_second();
  const int batch = after.resolved_config().batch_size();
  if (rate > 0 && batch > 0) {
    iteration_seconds_.Observe(batch / rate);
    samples_per_second_
        .Add({{"device", after.device().empty() ? "cpu" : after.device()}})
        .Set(rate);
  }
}

void JobMetrics::OnCheckpointSave(double seconds, int64_t bytes, bool ok) {
  saves_.Add({{"result", ok ? "ok" : "error"}}).Increment();
  if (!ok) return;
  save_seconds_.Observe(seconds);
  saved_bytes_.Increment(static_cast<double>(bytes));
}

void JobMetrics::SetJobCounts(const std::map<pb::JobState, int64_t>& by_state,
                              int64_t queued) {
  for (int s = pb::JobState_MIN + 1; s <= pb::JobState_MAX; ++s) {
    const auto state = static_cast<pb::JobState>(s);
    auto it = by_state.find(state);
    jobs_.Add({{"state", Lower(state)}})
        .Set(it == by_state.end() ? 0 : static_cast<double>(it->second));
  }
  queue_length_.Set(static_cast<double>(queued));
}

}  // namespace proxflow::server
