// ServerFixture: an in-process proxflow server on a free loopback port, over a
// fresh data directory, with a FakeBackend, plus client helpers.
#ifndef PROXFLOW_TESTS_SERVER_SERVER_FIXTURE_H_
#define PROXFLOW_TESTS_SERVER_SERVER_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxflow/v1/dataset_service.grpc.pb.h"
#include "proxflow/v1/registry.grpc.pb.h"
#include "proxflow/v1/sampling_service.grpc.pb.h"
#include "proxflow/v1/training_service.grpc.pb.h"
#include "server/server.h"
#include "tests/server/fake_backend.h"
#include "tests/server/fake_sampling_backend.h"

namespace proxflow::server::testing {

namespace pb = proxflow::v1;

// A toy job the fake backend runs in a few milliseconds.
inline pb::TrainingConfig ToyConfig(int64_t iterations = 20) {
  pb::TrainingConfig c;
  c.set_preset("toy-2d");
  c.set_iterations(iterations);
  c.set_log_interval(1);
  c.set_checkpoint_interval(5);
  c.set_eval_interval(0);
  return c;
}

inline std::chrono::system_clock::time_point Deadline(int seconds = 60) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/proxflow-server-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    data_dir_ = pattern;
    options_.listen = "127.0.0.1:0";
    options_.data_dir = data_dir_;
    options_.heartbeat_interval = absl::Hours(1);
    options_.progress_min_interval = absl::ZeroDuration();
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(data_dir_);
  }

  // (Re)starts the server with options_.
  void StartServer() {
    server_.reset();
    auto server = Server::Start(options_, &backend_, &sampling_backend_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    training_ = pb::TrainingService::NewStub(channel_);
    datasets_ = pb::DatasetService::NewStub(channel_);
    registry_ = pb::CheckpointRegistry::NewStub(channel_);
    sampling_ = pb::SamplingService::NewStub(channel_);
  }

  grpc::Status Submit(const pb::TrainingConfig& config, pb::Job* job,
                      const std::string& request_id = "",
                      bool validate_only = false, bool* created = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    pb::SubmitJobRequest request;
    *request.mutable_config() = config;
    request.set_request_id(request_id);
    request.set_validate_only(validate_only);
    pb::SubmitJobResponse response;
    grpc::Status status = training_->SubmitJob(&context, request, &response);
    if (job != nullptr) *job = response.job();
    if (created != nullptr) *created = response.created();
    return status;
  }

  pb::Job GetJob(const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    pb::GetJobRequest request;
    request.set_job_id(id);
    pb::Job job;
    grpc::Status status = training_->GetJob(&context, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job;
  }

  // Reads events after `after` until the stream ends or `stop` says so.
  // Returns the stream's status through `status` when it ended.
  std::vector<pb::JobEvent> Watch(
      const std::string& id, int64_t after = 0,
      const std::function<bool(const pb::JobEvent&)>& stop = nullptr,
      grpc::Status* status = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    pb::WatchJobRequest request;
    request.set_job_id(id);
    request.set_after_sequence(after);
    auto reader = training_->WatchJob(&context, request);
    std::vector<pb::JobEvent> events;
    pb::JobEvent event;
    while (reader->Read(&event)) {
      events.push_back(event);
      if (stop && stop(event)) {
        context.TryCancel();
        break;
      }
    }
    grpc::Status s = reader->Finish();
    if (status != nullptr) *status = s;
    return events;
  }

  // The job's versions with the given statuses (READY when none), in order.
  std::vector<pb::Checkpoint> JobCheckpoints(
      const std::string& job_id,
      std::vector<pb::CheckpointStatus> statuses = {}) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    pb::ListCheckpointsRequest request;
    request.set_job_id(job_id);
    for (pb::CheckpointStatus s : statuses) request.add_statuses(s);
    pb::ListCheckpointsResponse response;
    grpc::Status status =
        registry_->ListCheckpoints(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.checkpoints().begin(), response.checkpoints().end()};
  }

  grpc::Status GetCheckpoint(const std::string& ref, pb::Checkpoint* out) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    pb::GetCheckpointRequest request;
    request.set_ref(ref);
    return registry_->GetCheckpoint(&context, request, out);
  }

  // Where the file blob store keeps a blob.
  std::filesystem::path BlobPath(const std::string& sha256) const {
    return std::filesystem::path(data_dir_) / "blobs" / sha256.substr(0, 2) /
           sha256;
  }

  std::string data_dir_;
  ServerOptions options_;
  FakeBackend backend_;
  FakeSamplingBackend sampling_backend_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::TrainingService::Stub> training_;
  std::unique_ptr<pb::SamplingService::Stub> sampling_;
  std::unique_ptr<pb::DatasetService::Stub> datasets_;
  std::unique_ptr<pb::CheckpointRegistry::Stub> registry_;
};

// The states of the state-change events, in order.
inline std::vector<pb::JobState> States(
    const std::vector<pb::JobEvent>& events) {
  std::vector<pb::JobState> out;
  for (const auto& e : events)
    if (e.has_state_change()) out.push_back(e.state_change().to());
  return out;
}

// Sequences of the non-heartbeat events.
inline std::vector<int64_t> Sequences(const std::vector<pb::JobEvent>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events)
    if (!e.has_heartbeat()) out.push_back(e.sequence());
  return out;
}

// Checks that a watched stream lost nothing: sequences strictly increase from
// after + 1, and every gap is exactly the progress events the next event says
// it coalesced. Heartbeats are skipped.
inline void ExpectNoLostEvents(const std::vector<pb::JobEvent>& events,
                               int64_t after = 0) {
  int64_t previous = after;
  for (const auto& e : events) {
    if (e.has_heartbeat()) continue;
    EXPECT_EQ(e.sequence() - previous - 1, e.coalesced())
        << "sequence " << e.sequence() << " after " << previous;
    EXPECT_TRUE(e.coalesced() == 0 || e.has_progress());
    previous = e.sequence();
  }
}

}  // namespace proxflow::server::testing

#endif  // PROXFLOW_TESTS_SERVER_SERVER_FIXTURE_H_
