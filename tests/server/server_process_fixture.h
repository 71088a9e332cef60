// The fixture of server_process_tests: a data directory (optionally a tiny
// tmpfs), proxflow-server as a real process (tests/testing/server_process.h),
// stubs and the registry checks the crash and shutdown tests share. The
// binary comes from PROXFLOW_SERVER_BIN.
#ifndef PROXFLOW_TESTS_SERVER_SERVER_PROCESS_FIXTURE_H_
#define PROXFLOW_TESTS_SERVER_SERVER_PROCESS_FIXTURE_H_

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxflow/v1/dataset_service.grpc.pb.h"
#include "proxflow/v1/registry.grpc.pb.h"
#include "proxflow/v1/training_service.grpc.pb.h"
#include "tests/testing/server_process.h"

namespace proxflow::server::process_test {

namespace pb = proxflow::v1;
using ::proxflow::testing::ServerProcess;
using ::testing::ElementsAre;

inline std::chrono::system_clock::time_point Deadline(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

class ServerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("PROXFLOW_SERVER_BIN") == nullptr)
      GTEST_SKIP() << "PROXFLOW_SERVER_BIN is not set";
    char pattern[] = "/tmp/proxflow-process-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    data_dir_ = pattern;
  }
  void TearDown() override {
    if (mounted_) umount(data_dir_.c_str());
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }

  void Connect(int port) {
    ASSERT_GT(port, 0) << "proxflow-server did not start";
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    stub_ = pb::TrainingService::NewStub(channel_);
    registry_ = pb::CheckpointRegistry::NewStub(channel_);
  }

  // The job's versions with `status`, in version order.
  std::vector<pb::Checkpoint> Versions(const std::string& job_id,
                                       pb::CheckpointStatus status) {
    grpc::ClientContext context;
    context.set_deadline(Deadline(60));
    pb::ListCheckpointsRequest request;
    request.set_job_id(job_id);
    request.add_statuses(status);
    pb::ListCheckpointsResponse response;
    grpc::Status s = registry_->ListCheckpoints(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.checkpoints().begin(), response.checkpoints().end()};
  }

  // Submits a toy job; its id in `*id` when accepted.
  grpc::Status TrySubmitToy(int64_t iterations, int64_t checkpoint_interval,
                            std::string* id) {
    pb::SubmitJobRequest request;
    auto* c = request.mutable_config();
    c->set_preset("toy-2d");
    c->set_iterations(iterations);
    c->set_batch_size(128);
    c->set_log_interval(10);
    c->set_checkpoint_interval(checkpoint_interval);
    c->set_eval_interval(0);
    grpc::ClientContext context;
    context.set_deadline(Deadline(60));
    pb::SubmitJobResponse response;
    grpc::Status s = stub_->SubmitJob(&context, request, &response);
    *id = response.job().id();
    return s;
  }
  std::string SubmitToy(int64_t iterations, int64_t checkpoint_interval = 50) {
    std::string id;
    const grpc::Status s = TrySubmitToy(iterations, checkpoint_interval, &id);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return id;
  }

  // Every event from the start until the stream ends or `stop` is true.
  std::vector<pb::JobEvent> Watch(
      const std::string& id,
      const std::function<bool(const pb::JobEvent&)>& stop = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(Deadline(300));
    pb::WatchJobRequest request;
    request.set_job_id(id);
    request.set_full_history(true);
    auto reader = stub_->WatchJob(&context, request);
    std::vector<pb::JobEvent> events;
    pb::JobEvent e;
    while (reader->Read(&e)) {
      if (e.has_heartbeat()) continue;
      events.push_back(e);
      if (stop && stop(e)) {
        context.TryCancel();
        break;
      }
    }
    reader->Finish();
    return events;
  }

  // Checks the history of a job interrupted once and finished after a
  // restart: no lost or duplicated event, resumed from the newest checkpoint
  // before the interruption, finished at `iterations`.
  void ExpectResumedHistory(const std::vector<pb::JobEvent>& events,
                            int64_t iterations) {
    std::vector<int64_t> seq, expected(events.size());
    for (const auto& e : events) seq.push_back(e.sequence());
    std::iota(expected.begin(), expected.end(), 1);
    EXPECT_EQ(seq, expected);
    std::vector<pb::JobState> states;
    int64_t last_checkpoint = 0, resumed_from = -1, first_progress_after = -1;
    for (const auto& e : events) {
      if (e.has_state_change()) {
        states.push_back(e.state_change().to());
        if (e.state_change().to() == pb::JOB_STATE_RESTARTING) {
          resumed_from = e.state_change().step();
          EXPECT_EQ(e.state_change().attempt(), 2);
          EXPECT_EQ(resumed_from, last_checkpoint);
        }
      }
      if (e.has_checkpoint_saved() && resumed_from < 0)
        last_checkpoint = e.checkpoint_saved().step();
      if (e.has_progress() && resumed_from >= 0 && first_progress_after < 0)
        first_progress_after = e.progress().step();
    }
    EXPECT_THAT(states,
                ElementsAre(pb::JOB_STATE_QUEUED, pb::JOB_STATE_RUNNING,
                            pb::JOB_STATE_RESTARTING, pb::JOB_STATE_RUNNING,
                            pb::JOB_STATE_SUCCEEDED));
    EXPECT_GT(resumed_from, 0);
    // Training continued from the checkpoint, not from zero.
    EXPECT_GT(first_progress_after, resumed_from);
    EXPECT_LE(first_progress_after, resumed_from + 10);
    ASSERT_TRUE(events.back().has_state_change());
    EXPECT_EQ(events.back().state_change().step(), iterations);
  }

  pb::Job GetJob(const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(Deadline(60));
    pb::GetJobRequest request;
    request.set_job_id(id);
    pb::Job job;
    EXPECT_TRUE(stub_->GetJob(&context, request, &job).ok());
    return job;
  }
  int64_t CurrentStep(const std::string& id) {
    return GetJob(id).progress().step();
  }
  bool Finished(const std::string& id) {
    const pb::Job job = GetJob(id);
    return job.state() == pb::JOB_STATE_SUCCEEDED ||
           job.state() == pb::JOB_STATE_FAILED ||
           job.state() == pb::JOB_STATE_CANCELLED;
  }

  std::string Download(const std::string& ref) {
    grpc::ClientContext context;
    context.set_deadline(Deadline(60));
    pb::DownloadCheckpointRequest request;
    request.set_ref(ref);
    auto reader = registry_->DownloadCheckpoint(&context, request);
    pb::DownloadCheckpointResponse r;
    std::string bytes;
    while (reader->Read(&r)) bytes += r.chunk().data();
    const grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << ref << ": " << s.error_message();
    return bytes;
  }

  // Every READY version of `jobs` downloads whole with its recorded SHA-256;
  // none is PENDING (recovery settles them) unless `allow_pending`.
  void ExpectRegistryIntact(const std::vector<std::string>& jobs,
                            bool allow_pending) {
    for (const std::string& id : jobs) {
      for (const pb::Checkpoint& c :
           Versions(id, pb::CHECKPOINT_STATUS_READY)) {
        const std::string bytes = Download(c.uuid());
        EXPECT_EQ(static_cast<int64_t>(bytes.size()), c.size_bytes())
            << c.uuid();
        ASSERT_EQ(c.files_size(), 1);
        EXPECT_EQ(Sha256Hex(bytes), c.files(0).sha256()) << c.uuid();
      }
      if (!allow_pending) {
        EXPECT_THAT(Versions(id, pb::CHECKPOINT_STATUS_PENDING),
                    ::testing::IsEmpty())
            << id;
      }
    }
  }

  std::string data_dir_;
  bool mounted_ = false;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::TrainingService::Stub> stub_;
  std::unique_ptr<pb::CheckpointRegistry::Stub> registry_;
};

}  // namespace proxflow::server::process_test

#endif  // PROXFLOW_TESTS_SERVER_SERVER_PROCESS_FIXTURE_H_
