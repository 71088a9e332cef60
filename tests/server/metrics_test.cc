// /metrics of an in-process server: gRPC calls counted by method and code and
// timed, build info, the HTTP endpoint's answers.

#include <map>
#include <string>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/base/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics/job_metrics.h"
#include "tests/server/sampling_fixture.h"
#include "tests/testing/http_get.h"

namespace proxflow::server::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using ::proxflow::testing::HttpRequest;

// Series (name with labels, as printed) → value.
std::map<std::string, double> Scrape(int port) {
  const std::string response = HttpRequest(port, "GET /metrics HTTP/1.1");
  std::map<std::string, double> series;
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return series;
  for (absl::string_view line :
       absl::StrSplit(response.substr(body + 4), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double v = 0;
    if (absl::SimpleAtod(line.substr(space + 1), &v))
      series[std::string(line.substr(0, space))] = v;
  }
  return series;
}

constexpr char kSubmitOk[] =
    "proxflow_grpc_server_handled_total{code=\"OK\",method=\"SubmitJob\","
    "service=\"proxflow."
    "v1.TrainingService\"}";
constexpr char kGetNotFound[] =
    "proxflow_grpc_server_handled_total{code=\"NOT_FOUND\",method=\"GetJob\","
    "service="
    "\"proxflow.v1.TrainingService\"}";
constexpr char kSubmitCount[] =
    "proxflow_grpc_server_handling_seconds_count{method=\"SubmitJob\",service="
    "\"proxflow.v1."
    "TrainingService\"}";

// The port of "http://127.0.0.1:PORT/metrics".
int PortOf(const std::string& url) {
  int port = 0;
  const size_t colon = url.rfind(':');
  EXPECT_TRUE(absl::SimpleAtoi(
      url.substr(colon + 1, url.rfind('/') - colon - 1), &port))
      << url;
  return port;
}

// A server fixture (`Base`) restarted with /metrics on a free port.
template <typename Base>
class WithMetrics : public Base {
 protected:
  void SetUp() override {
    Base::SetUp();
    this->options_.metrics_listen = "127.0.0.1:0";
    this->StartServer();
  }
  int port() { return PortOf(this->server_->metrics_url()); }
};

using MetricsTest = WithMetrics<ServerFixture>;
using SamplingMetricsTest = WithMetrics<SamplingTest>;

TEST_F(MetricsTest, CallsAreCountedByMethodAndCodeAndTimed) {
  auto before = Scrape(port());
  EXPECT_EQ(before[kSubmitOk], 0);  // exists from the start, at zero
  EXPECT_EQ(before[kSubmitCount], 0);
  EXPECT_EQ(before.count(kGetNotFound), 0u);  // other codes appear on first use

  pb::Job job;
  ASSERT_TRUE(Submit(ToyConfig(), &job).ok());
  ASSERT_TRUE(Submit(ToyConfig(), &job).ok());
  grpc::ClientContext context;
  pb::GetJobRequest request;
  request.set_job_id("job-missing");
  pb::Job missing;
  EXPECT_EQ(training_->GetJob(&context, request, &missing).error_code(),
            grpc::StatusCode::NOT_FOUND);

  auto after = Scrape(port());
  EXPECT_EQ(after[kSubmitOk], 2);
  EXPECT_EQ(after[kSubmitCount], 2);
  EXPECT_EQ(after[kGetNotFound], 1);
  EXPECT_GT(after["proxflow_grpc_server_handling_seconds_sum{method="
                  "\"SubmitJob\",service="
                  "\"proxflow.v1.TrainingService\"}"],
            0);
  // Buckets are cumulative: the +Inf bucket holds every call.
  EXPECT_EQ(
      after["proxflow_grpc_server_handling_seconds_bucket{method=\"SubmitJob\","
            "service=\"proxflow.v1.TrainingService\",le=\"+Inf\"}"],
      2);
}

TEST_F(MetricsTest, JobsTrainingAndCheckpointsMoveAsAJobRuns) {
  auto before = Scrape(port());
  EXPECT_EQ(before["proxflow_jobs_submitted_total"], 0);
  EXPECT_EQ(before["proxflow_jobs{state=\"succeeded\"}"],
            0);  // every state, at 0
  EXPECT_EQ(before["proxflow_jobs_finished_total{result=\"failed\"}"], 0);

  pb::Job job;
  ASSERT_TRUE(Submit(ToyConfig(/*iterations=*/20), &job).ok());
  Watch(job.id());  // to its end
  ASSERT_EQ(GetJob(job.id()).state(), pb::JOB_STATE_SUCCEEDED);

  auto after = Scrape(port());
  EXPECT_EQ(after["proxflow_jobs_submitted_total"], 1);
  EXPECT_EQ(after["proxflow_jobs_finished_total{result=\"succeeded\"}"], 1);
  EXPECT_EQ(after["proxflow_jobs_finished_total{result=\"failed\"}"], 0);
  EXPECT_EQ(after["proxflow_jobs{state=\"succeeded\"}"], 1);
  EXPECT_EQ(after["proxflow_jobs{state=\"queued\"}"], 0);
  EXPECT_EQ(after["proxflow_job_queue_length"], 0);
  EXPECT_EQ(after["proxflow_job_queue_wait_seconds_count"], 1);
  EXPECT_EQ(after["proxflow_training_iterations_total"], 20);
  EXPECT_GE(after["proxflow_checkpoint_saves_total{result=\"ok\"}"], 1);
  EXPECT_EQ(after["proxflow_checkpoint_saves_total{result=\"ok\"}"],
            after["proxflow_checkpoint_save_seconds_count"]);
  EXPECT_GT(after["proxflow_checkpoint_saved_bytes_total"], 0);
}

// Each unfinished job's latest evaluation as proxflow_job_evaluation{job,
// metric}: set when a progress report brings a new evaluation, gone when the
// job ends (the series stay bounded by the jobs running at once).
TEST(JobMetricsEvaluation, LatestEvaluationPerRunningJobRemovedAtItsEnd) {
  prometheus::Registry registry;
  JobMetrics metrics(registry, {"cpu"});
  const auto text = [&] {
    return prometheus::TextSerializer().Serialize(registry.Collect());
  };
  pb::Job before;
  before.set_id("job-7");
  pb::Job after = before;
  after.mutable_progress()->set_step(500);
  after.mutable_progress()->set_eval_step(500);
  (*after.mutable_progress()->mutable_eval_metrics())["class_coverage"] = 3;
  (*after.mutable_progress()->mutable_eval_metrics())["frechet"] = 210.5;
  pb::JobEvent progress;
  *progress.mutable_progress() = after.progress();
  metrics.OnCommit(before, after, progress);
  EXPECT_THAT(text(),
              HasSubstr("proxflow_job_evaluation{job=\"job-7\",metric="
                        "\"class_coverage\"} 3"));
  EXPECT_THAT(text(), HasSubstr("proxflow_job_evaluation{job=\"job-7\","
                                "metric=\"frechet\"} 210.5"));

  // A progress report without a new evaluation leaves the values; a new one
  // moves them.
  pb::Job later = after;
  later.mutable_progress()->set_step(510);
  metrics.OnCommit(after, later, progress);
  EXPECT_THAT(text(), HasSubstr("metric=\"class_coverage\"} 3"));
  pb::Job next = later;
  next.mutable_progress()->set_eval_step(1000);
  (*next.mutable_progress()->mutable_eval_metrics())["class_coverage"] = 9;
  metrics.OnCommit(later, next, progress);
  EXPECT_THAT(text(), HasSubstr("metric=\"class_coverage\"} 9"));

  pb::JobEvent done;
  done.mutable_state_change()->set_from(pb::JOB_STATE_RUNNING);
  done.mutable_state_change()->set_to(pb::JOB_STATE_SUCCEEDED);
  metrics.OnCommit(next, next, done);
  EXPECT_THAT(text(), Not(HasSubstr("proxflow_job_evaluation{")));
  EXPECT_THAT(text(), HasSubstr("proxflow_jobs_finished_total{result=\"succeeded\"} 1"));
}

TEST_F(MetricsTest, BuildInfoAndHttpAnswers) {
  auto series = Scrape(port());
  bool found = false;
  for (const auto& [name, value] : series) {
    if (name.rfind("proxflow_build_info{", 0) == 0) {
      found = true;
      EXPECT_EQ(value, 1);
      EXPECT_THAT(name, HasSubstr("version=\"0.1.0\""));
      EXPECT_THAT(name, HasSubstr("devices=\"cpu\""));
    }
  }
  EXPECT_TRUE(found);
  EXPECT_THAT(HttpRequest(port(), "GET /metrics HTTP/1.1"),
              HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(HttpRequest(port(), "GET /nope HTTP/1.1"),
              HasSubstr("HTTP/1.1 404"));
  EXPECT_THAT(HttpRequest(port(), "POST /metrics HTTP/1.1"),
              HasSubstr("HTTP/1.1 405"));
  EXPECT_THAT(HttpRequest(port(), "garbage"), HasSubstr("HTTP/1.1 405"));
}

TEST_F(SamplingMetricsTest, RequestsImagesFirstImageBatchesAndCacheMove) {
  UploadModel("digits", "mnist");
  auto before = Scrape(port());
  EXPECT_EQ(before["proxflow_sampling_requests_total{result=\"ok\"}"], 0);
  EXPECT_EQ(before["proxflow_sampling_model_cache_bytes"], 0);

  ASSERT_TRUE(Sample(Request("digits/1", {1, 2, 3})).status.ok());
  ASSERT_TRUE(Sample(Request("digits/1", {4})).status.ok());
  pb::SampleRequest too_many = Request("digits/1", {});
  too_many.set_num_samples(100000);  // refused by the plan, before the engine
  EXPECT_FALSE(Sample(too_many).status.ok());

  // A stream's reactor ends (and leaves the active gauge) after the client
  // has its status: wait for that state, with a deadline.
  auto after = Scrape(port());
  for (const auto deadline = absl::Now() + absl::Seconds(30);
       after["proxflow_sampling_active_requests"] != 0 &&
       absl::Now() < deadline;)
    after = Scrape(port());
  EXPECT_EQ(after["proxflow_sampling_requests_total{result=\"ok\"}"], 2);
  EXPECT_EQ(after["proxflow_sampling_requests_total{result=\"error\"}"], 0);
  EXPECT_EQ(after["proxflow_sampling_images_total"], 4);
  EXPECT_EQ(after["proxflow_sampling_time_to_first_image_seconds_count"], 2);
  EXPECT_EQ(after["proxflow_sampling_request_seconds_count"], 2);
  EXPECT_EQ(after["proxflow_sampling_batch_rows_count"], 2);
  EXPECT_EQ(after["proxflow_sampling_batch_rows_sum"], 4);
  EXPECT_EQ(
      after["proxflow_sampling_model_cache_lookups_total{result=\"miss\"}"], 1);
  EXPECT_EQ(
      after["proxflow_sampling_model_cache_lookups_total{result=\"hit\"}"], 1);
  EXPECT_GT(after["proxflow_sampling_model_cache_bytes"], 0);
  EXPECT_EQ(after["proxflow_sampling_pending_requests"], 0);
  EXPECT_EQ(after["proxflow_sampling_active_requests"], 0);
  // The refused request is an INVALID_ARGUMENT call, counted by the gRPC
  // series.
  EXPECT_EQ(after["proxflow_grpc_server_handled_total{code=\"INVALID_"
                  "ARGUMENT\",method=\"Sample\","
                  "service=\"proxflow.v1.SamplingService\"}"],
            1);
}

TEST_F(SamplingMetricsTest, StorageIntegrityAndProcessFigures) {
  const pb::Checkpoint c = UploadModel("digits", "mnist");
  auto before = Scrape(port());
  EXPECT_EQ(before["proxflow_registry_ready_versions"], 1);
  EXPECT_EQ(before["proxflow_registry_stored_bytes"], c.size_bytes());
  EXPECT_EQ(before["proxflow_checkpoint_integrity_failures_total"], 0);
  EXPECT_EQ(before["proxflow_datasets"], 0);
  EXPECT_GT(before["proxflow_process_resident_memory_bytes"], 1 << 20);
  EXPECT_GT(before["proxflow_process_open_fds"], 3);
  EXPECT_GT(before["proxflow_process_threads"], 1);
  EXPECT_GT(before["proxflow_process_start_time_seconds"], 1.7e9);

  ASSERT_TRUE(
      WriteFileAtomically(BlobPath(c.files(0).sha256()).string(), "bit rot")
          .ok());
  EXPECT_EQ(Download("digits/1").status.error_code(),
            grpc::StatusCode::DATA_LOSS);
  auto after = Scrape(port());
  EXPECT_EQ(after["proxflow_checkpoint_integrity_failures_total"], 1);
  EXPECT_EQ(after["proxflow_registry_ready_versions"], 0);
  EXPECT_EQ(after["proxflow_registry_stored_bytes"], 0);
}

TEST(MetricsEndpointTest, BadAddressesAreRejected) {
  auto registry = std::make_shared<prometheus::Registry>();
  EXPECT_EQ(MetricsEndpoint::Start("nonsense", registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      MetricsEndpoint::Start("1.2.3:99999", registry).status().message(),
      HasSubstr("--metrics_listen must be IPV4:PORT"));
  auto first = MetricsEndpoint::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsEndpoint::Start(
      absl::StrCat("127.0.0.1:", (*first)->port()), registry);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace proxflow::server::testing
