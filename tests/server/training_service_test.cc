// TrainingService over a real gRPC server on port 0 with a fake backend.
#include <filesystem>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "core/base/file_util.h"
#include "core/base/sha256.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "proto/rpc/retry_info.h"
#include "proto/rpc/status_conversion.h"
#include "tests/server/server_fixture.h"

namespace proxflow::server::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TrainingServiceTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    StartServer();
  }
};

std::vector<int64_t> OneTo(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 1);
  return v;
}

TEST_F(TrainingServiceTest, SubmitAndWatchToSucceeded) {
  pb::Job job;
  bool created = false;
  ASSERT_TRUE(Submit(ToyConfig(20), &job, "", false, &created).ok());
  EXPECT_TRUE(created);
  EXPECT_THAT(job.id(), HasSubstr("job-"));
  EXPECT_EQ(job.state(), pb::JOB_STATE_QUEUED);
  EXPECT_EQ(job.resolved_config().batch_size(), 200);  // from the preset

  const auto events = Watch(job.id());
  ExpectNoLostEvents(events);
  const auto seq = Sequences(events);
  EXPECT_THAT(States(events),
              ElementsAre(pb::JOB_STATE_QUEUED, pb::JOB_STATE_RUNNING,
                          pb::JOB_STATE_SUCCEEDED));
  // A replay of the finished job has every event, none coalesced away
  // (20 progress, 4 checkpoints, 3 states).
  const auto replay = Watch(job.id());
  EXPECT_EQ(Sequences(replay), OneTo(27));
  std::vector<int64_t> checkpoints;
  int64_t last_progress = 0;
  for (const auto& e : replay) {
    if (e.has_checkpoint_saved())
      checkpoints.push_back(e.checkpoint_saved().step());
    if (e.has_progress()) {
      EXPECT_GT(e.progress().step(), last_progress);
      last_progress = e.progress().step();
      EXPECT_EQ(e.progress().max_step(), 20);
      EXPECT_EQ(e.progress().metrics_step(), e.progress().step());
      EXPECT_DOUBLE_EQ(e.progress().metrics().at("critic_loss"),
                       1.0 / e.progress().step());
    }
  }
  EXPECT_EQ(last_progress, 20);
  EXPECT_THAT(checkpoints, ElementsAre(5, 10, 15, 20));

  const pb::Job done = GetJob(job.id());
  EXPECT_EQ(done.state(), pb::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.progress().step(), 20);
  EXPECT_EQ(done.checkpoint_step(), 20);
  EXPECT_EQ(done.last_sequence(), seq.back());
  EXPECT_EQ(done.device(), "cpu");
  EXPECT_TRUE(done.has_start_time() && done.has_end_time());
  // Every checkpoint became a registry version; retention (keep_latest 3,
  // and no metric for keep_best) kept the newest three READY.
  std::vector<int64_t> steps;
  for (const pb::Checkpoint& c : JobCheckpoints(job.id()))
    steps.push_back(c.lineage().step());
  EXPECT_THAT(steps, ElementsAre(10, 15, 20));
  EXPECT_EQ(JobCheckpoints(job.id(), {pb::CHECKPOINT_STATUS_DELETED}).size(),
            1u);
}

TEST_F(TrainingServiceTest, WatchReplaysAfterSequence) {
  pb::Job job;
  ASSERT_TRUE(Submit(ToyConfig(10), &job).ok());
  Watch(job.id());  // to the end
  const auto all = Watch(job.id());
  ASSERT_EQ(all.size(), 15u);  // 10 progress, 2 checkpoints, 3 states
  const auto tail = Watch(job.id(), 4);
  ASSERT_EQ(tail.size(), all.size() - 4);
  for (size_t i = 0; i < tail.size(); ++i)
    EXPECT_TRUE(MessageDifferencer::Equals(tail[i], all[i + 4])) << i;
}

TEST_F(TrainingServiceTest, ValidateOnlyResolvesWithoutQueueing) {
  pb::Job job;
  pb::TrainingConfig config = ToyConfig();
  config.set_batch_size(64);
  ASSERT_TRUE(Submit(config, &job, "", /*validate_only=*/true).ok());
  EXPECT_TRUE(job.id().empty());
  EXPECT_EQ(job.resolved_config().batch_size(), 64);
  EXPECT_EQ(job.resolved_config().flow().lambda(), 0.5);  // preset value
  grpc::ClientContext context;
  pb::ListJobsResponse list;
  ASSERT_TRUE(training_->ListJobs(&context, {}, &list).ok());
  EXPECT_EQ(list.jobs_size(), 0);
}

TEST_F(TrainingServiceTest, RequestIdMakesRetriesIdempotent) {
  pb::Job first, retry;
  bool created = true;
  ASSERT_TRUE(Submit(ToyConfig(), &first, "req-1").ok());
  ASSERT_TRUE(Submit(ToyConfig(), &retry, "req-1", false, &created).ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(retry.id(), first.id());
  grpc::Status other = Submit(ToyConfig(21), nullptr, "req-1");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(other.error_message(), HasSubstr("req-1"));
  grpc::Status bad = Submit(ToyConfig(), nullptr, "no spaces allowed");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("request_id"));
}

TEST_F(TrainingServiceTest, CancelMidRunCheckpointsThenCancels) {
  backend_.HoldAt(8);
  pb::Job job;
  ASSERT_TRUE(Submit(ToyConfig(20), &job).ok());
  // Wait (bounded by the stream deadline) until step 7 is reported.
  Watch(job.id(), 0, [](const pb::JobEvent& e) {
    return e.has_progress() && e.progress().step() == 7;
  });
  grpc::ClientContext context;
  pb::CancelJobRequest request;
  request.set_job_id(job.id());
  pb::Job cancelling;
  ASSERT_TRUE(training_->CancelJob(&context, request, &cancelling).ok());
  EXPECT_EQ(cancelling.state(), pb::JOB_STATE_CANCELLING);
  backend_.Release();
  const auto events = Watch(job.id());
  EXPECT_THAT(States(events),
              ElementsAre(pb::JOB_STATE_QUEUED, pb::JOB_STATE_RUNNING,
                          pb::JOB_STATE_CANCELLING, pb::JOB_STATE_CANCELLED));
  const pb::Job done = GetJob(job.id());
  EXPECT_EQ(done.state(), pb::JOB_STATE_CANCELLED);
  EXPECT_EQ(done.checkpoint_step(), 7);
  EXPECT_EQ(done.progress().step(), 7);
  // Cancelling a finished job returns it unchanged.
  grpc::ClientContext again;
  pb::Job same;
  ASSERT_TRUE(training_->CancelJob(&again, request, &same).ok());
  EXPECT_EQ(same.state(), pb::JOB_STATE_CANCELLED);
  EXPECT_EQ(same.last_sequence(), done.last_sequence());
}

TEST_F(TrainingServiceTest, DivergenceFailsTheJobWithTheIteration) {
  backend_.DivergeAt(4);
  pb::Job job;
  ASSERT_TRUE(Submit(ToyConfig(20), &job).ok());
  const auto events = Watch(job.id());
  EXPECT_EQ(States(events).back(), pb::JOB_STATE_FAILED);
  const pb::Job done = GetJob(job.id());
  EXPECT_EQ(done.failure_reason(),
            "diverged at iteration 4: critic_loss is nan");
  EXPECT_EQ(done.progress().step(), 4);
  // The server is still serving.
  backend_.DivergeAt(0);
  pb::Job next;
  ASSERT_TRUE(Submit(ToyConfig(3), &next).ok());
  EXPECT_EQ(States(Watch(next.id())).back(), pb::JOB_STATE_SUCCEEDED);
}

TEST_F(TrainingServiceTest, ListPaginatesAndFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    pb::Job job;
    ASSERT_TRUE(Submit(ToyConfig(2), &job).ok());
    ids.push_back(job.id());
  }
  for (const auto& id : ids) Watch(id);
  backend_.DivergeAt(1);
  pb::Job failed;
  ASSERT_TRUE(Submit(ToyConfig(2), &failed).ok());
  Watch(failed.id());

  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext context;
    pb::ListJobsRequest request;
    request.set_page_size(2);
    request.set_page_token(token);
    pb::ListJobsResponse response;
    ASSERT_TRUE(training_->ListJobs(&context, request, &response).ok());
    for (const auto& j : response.jobs()) seen.push_back(j.id());
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  ids.push_back(failed.id());
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(pages, 3);

  grpc::ClientContext context;
  pb::ListJobsRequest request;
  request.add_states(pb::JOB_STATE_FAILED);
  pb::ListJobsResponse response;
  ASSERT_TRUE(training_->ListJobs(&context, request, &response).ok());
  ASSERT_EQ(response.jobs_size(), 1);
  EXPECT_EQ(response.jobs(0).id(), failed.id());

  for (const auto& [size, token_value, field] :
       std::vector<std::tuple<int, std::string, std::string>>{
           {-1, "", "page_size"},
           {1001, "", "page_size"},
           {10, "garbage", "page_token"}}) {
    grpc::ClientContext c;
    pb::ListJobsRequest r;
    r.set_page_size(size);
    r.set_page_token(token_value);
    pb::ListJobsResponse out;
    grpc::Status s = training_->ListJobs(&c, r, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr(field));
  }
}

TEST_F(TrainingServiceTest, UnknownIdsAreNotFound) {
  {
    grpc::ClientContext c;
    pb::GetJobRequest r;
    r.set_job_id("job-0000");
    pb::Job out;
    EXPECT_EQ(training_->GetJob(&c, r, &out).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext c;
    pb::CancelJobRequest r;
    r.set_job_id("job-0000");
    pb::Job out;
    EXPECT_EQ(training_->CancelJob(&c, r, &out).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  grpc::Status watch;
  EXPECT_TRUE(Watch("job-0000", 0, nullptr, &watch).empty());
  EXPECT_EQ(watch.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(watch.error_message(), HasSubstr("job-0000"));
}

TEST_F(TrainingServiceTest, HealthReportsServing) {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("proxflow.v1.TrainingService");
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(stub->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

class QueueLimitTest : public ServerFixture {};

TEST_F(QueueLimitTest, FullQueueIsResourceExhausted) {
  options_.queue_limit = 2;
  StartServer();
  backend_.HoldAt(1);
  pb::Job running;
  ASSERT_TRUE(Submit(ToyConfig(), &running).ok());
  // Wait until the worker took it off the queue.
  Watch(running.id(), 0, [](const pb::JobEvent& e) {
    return e.has_state_change() &&
           e.state_change().to() == pb::JOB_STATE_RUNNING;
  });
  ASSERT_TRUE(Submit(ToyConfig(), nullptr).ok());
  pb::Job second;
  ASSERT_TRUE(Submit(ToyConfig(), &second).ok());
  grpc::Status full = Submit(ToyConfig(), nullptr);
  EXPECT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(full.error_message(), HasSubstr("queue is full"));
  // The overload error says when to retry (google.rpc.RetryInfo detail): the
  // running job has reported no ETA yet, so the default 5 s.
  std::optional<absl::Duration> delay =
      rpc::RetryDelay(rpc::FromGrpcStatus(full));
  ASSERT_TRUE(delay.has_value());
  EXPECT_EQ(*delay, absl::Seconds(5));
  // Cancelling a queued job frees its place at once.
  grpc::ClientContext context;
  pb::CancelJobRequest request;
  request.set_job_id(second.id());
  pb::Job cancelled;
  ASSERT_TRUE(training_->CancelJob(&context, request, &cancelled).ok());
  EXPECT_EQ(cancelled.state(), pb::JOB_STATE_CANCELLED);
  EXPECT_TRUE(Submit(ToyConfig(), nullptr).ok());
  backend_.Release();
}

class RecoveryTest : public ServerFixture {};

TEST_F(RecoveryTest, ShutdownCheckpointsAndRestartResumes) {
  StartServer();
  backend_.HoldAt(8);
  pb::Job job;
  ASSERT_TRUE(Submit(ToyConfig(20), &job).ok());
  Watch(job.id(), 0, [](const pb::JobEvent& e) {
    return e.has_progress() && e.progress().step() == 7;
  });
  server_->Shutdown(absl::Seconds(5));  // preempts: checkpoint at step 7
  backend_.Release();
  const pb::Job stopped = [&] {
    server_.reset();
    StartServer();
    return GetJob(job.id());
  }();
  EXPECT_EQ(stopped.attempt(), 2);
  Watch(job.id());  // to the end
  const auto events = Watch(job.id());
  const auto seq = Sequences(events);
  EXPECT_EQ(seq, OneTo(static_cast<int64_t>(seq.size())));
  EXPECT_THAT(States(events),
              ElementsAre(pb::JOB_STATE_QUEUED, pb::JOB_STATE_RUNNING,
                          pb::JOB_STATE_RESTARTING, pb::JOB_STATE_RUNNING,
                          pb::JOB_STATE_SUCCEEDED));
  for (const auto& e : events) {
    if (e.has_state_change() &&
        e.state_change().to() == pb::JOB_STATE_RESTARTING) {
      EXPECT_EQ(e.state_change().step(), 7);
      EXPECT_EQ(e.state_change().attempt(), 2);
    }
  }
  EXPECT_EQ(backend_.resumes(), 1);
  const pb::Job done = GetJob(job.id());
  EXPECT_EQ(done.state(), pb::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.progress().step(), 20);
}

TEST_F(RecoveryTest, TornNewestCheckpointFallsBackToThePreviousOne) {
  StartServer();
  backend_.HoldAt(13);
  pb::Job job;
  ASSERT_TRUE(Submit(ToyConfig(20), &job).ok());
  Watch(job.id(), 0, [](const pb::JobEvent& e) {
    return e.has_progress() && e.progress().step() == 12;
  });
  server_->Shutdown(absl::Seconds(5));  // checkpoints 5, 10 and 12 exist
  backend_.Release();
  server_.reset();
  // Corrupt the newest version's file (the fake's step-12 checkpoint): its
  // hash no longer matches.
  const std::string sha = Sha256Hex(absl::StrCat(
      "fake-ckpt:12\n", job.resolved_config().SerializeAsString()));
  ASSERT_TRUE(std::filesystem::exists(BlobPath(sha)));
  ASSERT_TRUE(WriteFileAtomically(BlobPath(sha).string(), "torn").ok());
  StartServer();
  const auto events = Watch(job.id());
  bool resumed = false;
  for (const auto& e : events) {
    if (e.has_state_change() &&
        e.state_change().to() == pb::JOB_STATE_RUNNING &&
        e.state_change().attempt() == 2) {
      resumed = true;
      EXPECT_EQ(e.state_change().step(), 10);
      EXPECT_THAT(e.state_change().reason(),
                  HasSubstr("integrity check failed"));
    }
  }
  EXPECT_TRUE(resumed);
  // The torn version is FAILED with the integrity failure recorded.
  pb::Checkpoint torn;
  ASSERT_TRUE(GetCheckpoint(job.resolved_config().model() + "/3", &torn).ok());
  EXPECT_EQ(torn.lineage().step(), 12);
  EXPECT_EQ(torn.status(), pb::CHECKPOINT_STATUS_FAILED);
  EXPECT_THAT(torn.status_reason(), HasSubstr("does not match its sha256"));
  EXPECT_EQ(States(events).back(), pb::JOB_STATE_SUCCEEDED);
}

}  // namespace
}  // namespace proxflow::server::testing

namespace proxflow::server::testing {
namespace {

TEST_F(TrainingServiceTest, ABacklogIsCoalescedUnlessFullHistoryIsAsked) {
  pb::Job job;
  ASSERT_TRUE(Submit(ToyConfig(200), &job).ok());
  Watch(job.id());  // to the end: 200 progress, 40 checkpoints, 3 states
  const auto coalesced = Watch(job.id());
  ExpectNoLostEvents(coalesced);
  EXPECT_LT(coalesced.size(), 243u);
  EXPECT_EQ(coalesced.back().state_change().to(), pb::JOB_STATE_SUCCEEDED);
  int checkpoints = 0;
  for (const auto& e : coalesced) checkpoints += e.has_checkpoint_saved();
  EXPECT_EQ(checkpoints, 40);  // only progress is ever coalesced

  grpc::ClientContext context;
  pb::WatchJobRequest request;
  request.set_job_id(job.id());
  request.set_full_history(true);
  auto reader = training_->WatchJob(&context, request);
  std::vector<pb::JobEvent> full;
  pb::JobEvent e;
  while (reader->Read(&e)) full.push_back(e);
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(Sequences(full), OneTo(243));
}

}  // namespace
}  // namespace proxflow::server::testing

namespace proxflow::server::testing {
namespace {

class HeartbeatTest : public ServerFixture {};

TEST_F(HeartbeatTest, IdleStreamsGetHeartbeatsCarryingTheLastSequence) {
  options_.heartbeat_interval = absl::Milliseconds(20);
  StartServer();
  backend_.HoldAt(3);
  pb::Job job;
  ASSERT_TRUE(Submit(ToyConfig(5), &job).ok());
  int64_t last = 0;
  const auto events = Watch(job.id(), 0, [&](const pb::JobEvent& e) {
    if (!e.has_heartbeat()) last = e.sequence();
    // Held at step 3: once step 2 is reported nothing else happens, so a
    // heartbeat must come.
    return e.has_heartbeat() && last > 0;
  });
  backend_.Release();
  ASSERT_FALSE(events.empty());
  const pb::JobEvent& beat = events.back();
  ASSERT_TRUE(beat.has_heartbeat());
  EXPECT_EQ(beat.sequence(), last);
  EXPECT_EQ(beat.job_id(), job.id());
  EXPECT_EQ(States(Watch(job.id())).back(), pb::JOB_STATE_SUCCEEDED);
}

}  // namespace
}  // namespace proxflow::server::testing
