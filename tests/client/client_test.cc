// The typed clients against scripted fake services: retries with backoff,
// idempotent submits, watches that reconnect without losing or repeating
// events, resumable verified downloads.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/connection.h"
#include "client/registry_client.h"
#include "client/training_client.h"
#include "core/base/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/rpc/retry_info.h"
#include "proto/rpc/status_conversion.h"
#include "proxflow/v1/registry.grpc.pb.h"
#include "proxflow/v1/training_service.grpc.pb.h"

namespace proxflow::client {
namespace {

namespace pb = proxflow::v1;
using ::testing::ElementsAre;

grpc::Status Unavailable() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is draining");
}

class FakeTraining final : public pb::TrainingService::Service {
 public:
  grpc::Status SubmitJob(grpc::ServerContext*, const pb::SubmitJobRequest* r,
                         pb::SubmitJobResponse* out) override {
    absl::MutexLock lock(&mu_);
    submit_ids_.push_back(r->request_id());
    if (submit_ids_.size() == 1) {
      return rpc::ToGrpcStatus(
          rpc::WithRetryDelay(absl::ResourceExhaustedError("job queue is full"),
                              absl::Milliseconds(1500)));
    }
    out->mutable_job()->set_id("job-1");
    out->set_created(submit_ids_.size() == 2);
    return grpc::Status::OK;
  }
  grpc::Status GetJob(grpc::ServerContext*, const pb::GetJobRequest* r,
                      pb::Job* out) override {
    absl::MutexLock lock(&mu_);
    if (get_failures_ > 0) {
      --get_failures_;
      return Unavailable();
    }
    out->set_id(r->job_id());
    out->set_state(pb::JOB_STATE_SUCCEEDED);
    return grpc::Status::OK;
  }
  grpc::Status CancelJob(grpc::ServerContext*, const pb::CancelJobRequest*,
                         pb::Job*) override {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "job \"x\" not found");
  }
  // First call: events 1..3, then the stream drops. Later calls: the events
  // after after_sequence up to 5 (plus a heartbeat), then OK.
  grpc::Status WatchJob(grpc::ServerContext*, const pb::WatchJobRequest* r,
                        grpc::ServerWriter<pb::JobEvent>* writer) override {
    int call;
    {
      absl::MutexLock lock(&mu_);
      watch_after_.push_back(r->after_sequence());
      call = static_cast<int>(watch_after_.size());
    }
    // An outage: calls 2 .. 1 + unanswered_watches_ fail before any event,
    // and so does every call before the (fake) clock reaches outage_until_.
    {
      absl::MutexLock lock(&mu_);
      if (call > 1 &&
          (call <= 1 + unanswered_watches_ || (now_ && now_() < outage_until_)))
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "connection refused");
    }
    const int64_t last = call == 1 ? 3 : 5;
    // A replay may start earlier than asked; the client must skip repeats.
    for (int64_t s = std::max<int64_t>(r->after_sequence() - 1, 0) + 1;
         s <= last; ++s) {
      pb::JobEvent e;
      e.set_job_id(r->job_id());
      e.set_sequence(s);
      e.mutable_progress()->set_step(s * 10);
      writer->Write(e);
    }
    pb::JobEvent beat;
    beat.set_sequence(last);
    beat.mutable_heartbeat();
    writer->Write(beat);
    return call == 1 ? Unavailable() : grpc::Status::OK;
  }

  absl::Mutex mu_;
  std::vector<std::string> submit_ids_;
  std::vector<int64_t> watch_after_;
  int get_failures_ = 0;
  int unanswered_watches_ = 0;
  std::function<absl::Time()> now_;  // the client's fake clock
  absl::Time outage_until_ = absl::InfinitePast();
};

class FakeRegistry final : public pb::CheckpointRegistry::Service {
 public:
  explicit FakeRegistry(std::string bytes) : bytes_(std::move(bytes)) {
    checkpoint_.set_model("m");
    checkpoint_.set_version(3);
    checkpoint_.set_uuid("0f0e0d0c-0000-4000-8000-000000000003");
    checkpoint_.set_status(pb::CHECKPOINT_STATUS_READY);
    checkpoint_.set_size_bytes(static_cast<int64_t>(bytes_.size()));
    auto* f = checkpoint_.add_files();
    f->set_name("checkpoint.pxf");
    f->set_sha256(Sha256Hex(bytes_));
    f->set_size_bytes(static_cast<int64_t>(bytes_.size()));
  }
  grpc::Status GetCheckpoint(grpc::ServerContext*,
                             const pb::GetCheckpointRequest*,
                             pb::Checkpoint* out) override {
    *out = checkpoint_;
    return grpc::Status::OK;
  }
  // Chunks of 1 MiB from the offset; the first stream drops after one chunk.
  grpc::Status DownloadCheckpoint(
      grpc::ServerContext*, const pb::DownloadCheckpointRequest* r,
      grpc::ServerWriter<pb::DownloadCheckpointResponse>* w) override {
    int call;
    {
      absl::MutexLock lock(&mu_);
      offsets_.push_back(r->offset());
      call = static_cast<int>(offsets_.size());
    }
    pb::DownloadCheckpointResponse header;
    *header.mutable_header() = checkpoint_;
    w->Write(header);
    for (int64_t at = r->offset(); at < static_cast<int64_t>(bytes_.size());
         at += 1 << 20) {
      pb::DownloadCheckpointResponse chunk;
      chunk.mutable_chunk()->set_offset(at);
      chunk.mutable_chunk()->set_data(bytes_.substr(at, 1 << 20));
      w->Write(chunk);
      if (call == 1 && drop_first_) return Unavailable();
    }
    return grpc::Status::OK;
  }

  absl::Mutex mu_;
  std::vector<int64_t> offsets_;
  bool drop_first_ = true;
  std::string bytes_;
  pb::Checkpoint checkpoint_;
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string bytes(3 * (1 << 20) + 12345, '\0');
    for (size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<char>(i * 131 % 251);
    registry_ = std::make_unique<FakeRegistry>(bytes);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&training_);
    builder.RegisterService(registry_.get());
    server_ = builder.BuildAndStart();
    ASSERT_GT(port, 0);
    ClientOptions options;
    options.retry.max_attempts = 4;
    options.jitter_seed = 7;
    options.sleep = [this](absl::Duration d) {
      absl::MutexLock lock(&mu_);
      sleeps_.push_back(d);
      now_ += d;  // the fake clock moves only while the client waits
    };
    options.now = [this] {
      absl::MutexLock lock(&mu_);
      return now_;
    };
    connection_ = std::make_unique<Connection>(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                            grpc::InsecureChannelCredentials()),
        options);
    char dir[] = "/tmp/proxflow-client-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  FakeTraining training_;
  std::unique_ptr<FakeRegistry> registry_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Connection> connection_;
  absl::Mutex mu_;
  std::vector<absl::Duration> sleeps_;
  absl::Time now_ = absl::FromUnixSeconds(1000000);
  std::string dir_;
};

TEST_F(ClientTest, UnaryCallsRetryUnavailableWithGrowingBackoff) {
  training_.get_failures_ = 2;
  auto job = TrainingClient(*connection_).Get("job-1");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state(), pb::JOB_STATE_SUCCEEDED);
  ASSERT_EQ(sleeps_.size(), 2u);
  // Retry 1 waits in [100, 200] ms, retry 2 in [200, 400] ms (jittered halves).
  EXPECT_GE(sleeps_[0], absl::Milliseconds(100));
  EXPECT_LE(sleeps_[0], absl::Milliseconds(200));
  EXPECT_GE(sleeps_[1], absl::Milliseconds(200));
  EXPECT_LE(sleeps_[1], absl::Milliseconds(400));
}

TEST_F(ClientTest, GivesUpAfterMaxAttemptsAndNeverRetriesOtherErrors) {
  training_.get_failures_ = 10;
  auto job = TrainingClient(*connection_).Get("job-1");
  EXPECT_EQ(job.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sleeps_.size(), 3u);  // 4 attempts
  sleeps_.clear();
  auto cancelled = TrainingClient(*connection_).Cancel("x");
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ClientTest,
       SubmitRetriesAFullQueueWithTheSameRequestIdAfterTheServersDelay) {
  auto response = TrainingClient(*connection_).Submit(pb::TrainingConfig());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->job().id(), "job-1");
  ASSERT_EQ(training_.submit_ids_.size(), 2u);
  EXPECT_EQ(training_.submit_ids_[0], training_.submit_ids_[1]);
  EXPECT_THAT(training_.submit_ids_[0], ::testing::StartsWith("cli-"));
  ASSERT_EQ(sleeps_.size(), 1u);
  EXPECT_GE(sleeps_[0], absl::Milliseconds(1500));  // the RetryInfo delay wins
}

TEST_F(ClientTest,
       WatchReconnectsAfterTheLastSequenceWithoutLosingOrRepeatingEvents) {
  std::vector<int64_t> sequences;
  int heartbeats = 0;
  std::vector<std::string> reconnects;
  auto job = TrainingClient(*connection_)
                 .Watch(
                     "job-1", {},
                     [&](const pb::JobEvent& e) {
                       if (e.has_heartbeat()) {
                         ++heartbeats;
                       } else {
                         sequences.push_back(e.sequence());
                       }
                       return absl::OkStatus();
                     },
                     [&](const ReconnectNotice& n) {
                       reconnects.emplace_back(n.cause.message());
                     });
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state(), pb::JOB_STATE_SUCCEEDED);
  EXPECT_THAT(sequences, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(training_.watch_after_, ElementsAre(0, 3));
  EXPECT_THAT(reconnects, ElementsAre("server is draining"));
  EXPECT_EQ(heartbeats, 2);
}

absl::Duration Sum(const std::vector<absl::Duration>& v) {
  absl::Duration total;
  for (absl::Duration d : v) total += d;
  return total;
}

// A server down for a minute of (fake) time: far more attempts than the
// retry policy's max_attempts (4), inside the watch's 5-minute budget. The
// outage ends by the clock, so the assertions hold for any jitter.
TEST_F(ClientTest, WatchRidesOutAMinuteLongOutageWithEveryEventOnce) {
  training_.now_ = connection_->options().now;
  training_.outage_until_ = connection_->Now() + absl::Minutes(1);
  std::vector<int64_t> sequences;
  std::vector<ReconnectNotice> notices;
  auto job = TrainingClient(*connection_)
                 .Watch(
                     "job-1", {},
                     [&](const pb::JobEvent& e) {
                       if (!e.has_heartbeat())
                         sequences.push_back(e.sequence());
                       return absl::OkStatus();
                     },
                     [&](const ReconnectNotice& n) { notices.push_back(n); });
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state(), pb::JOB_STATE_SUCCEEDED);
  EXPECT_THAT(sequences, ElementsAre(1, 2, 3, 4, 5));
  // The drop, then every refused attempt: backoff capped at 10 s needs more
  // than 6 waits to cover a minute, against max_attempts 4 of unary calls.
  ASSERT_GT(notices.size(), 6u);
  EXPECT_GE(Sum(sleeps_), absl::Minutes(1));
  EXPECT_EQ(sleeps_.size(), notices.size());
  for (size_t i = 0; i < notices.size(); ++i) {
    EXPECT_EQ(notices[i].attempt, static_cast<int>(i) + 1);
    EXPECT_LE(notices[i].delay, absl::Seconds(10));
    EXPECT_EQ(notices[i].delay, sleeps_[i]) << "it waits what it announced";
    EXPECT_GT(notices[i].remaining, absl::ZeroDuration());
  }
  EXPECT_EQ(notices[0].cause.message(), "server is draining");
  EXPECT_EQ(notices[1].cause.message(), "connection refused");
  // The budget counts from the first failure: what is left only shrinks.
  EXPECT_LT(notices.back().remaining, notices.front().remaining);
}

TEST_F(ClientTest, WatchGivesUpWhenTheReconnectBudgetIsSpent) {
  training_.unanswered_watches_ = 1000;
  WatchOptions options;
  options.reconnect_budget = absl::Seconds(30);
  auto job = TrainingClient(*connection_)
                 .Watch("job-1", options,
                        [](const pb::JobEvent&) { return absl::OkStatus(); });
  EXPECT_EQ(job.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(job.status().message(), "connection refused");
  EXPECT_LE(Sum(sleeps_), absl::Seconds(30));
  // It gave up only when the next wait would have passed the budget.
  EXPECT_GT(Sum(sleeps_) + absl::Seconds(10), absl::Seconds(30));
  EXPECT_GT(sleeps_.size(), 4u) << "more than the unary retry attempts";
}

TEST_F(ClientTest, AHandlerErrorStopsTheWatch) {
  auto job =
      TrainingClient(*connection_).Watch("job-1", {}, [](const pb::JobEvent&) {
        return absl::CancelledError("enough");
      });
  EXPECT_EQ(job.status(), absl::CancelledError("enough"));
}

TEST_F(ClientTest, DownloadReconnectsMidStreamAndVerifies) {
  const std::string path = dir_ + "/m.pxf";
  auto result = RegistryClient(*connection_).Download("m@latest", path);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->reconnects, 1);
  EXPECT_EQ(result->resumed_from, 0);
  EXPECT_EQ(result->received, static_cast<int64_t>(registry_->bytes_.size()));
  EXPECT_THAT(registry_->offsets_, ElementsAre(0, 1 << 20));
  std::ifstream in(path, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  EXPECT_EQ(got, registry_->bytes_);
  EXPECT_FALSE(std::filesystem::exists(
      path + "." + registry_->checkpoint_.uuid() + ".part"));
}

TEST_F(ClientTest, DownloadResumesFromAPartFileOfTheSameVersion) {
  registry_->drop_first_ = false;
  const std::string path = dir_ + "/m.pxf";
  const std::string part = path + "." + registry_->checkpoint_.uuid() + ".part";
  const int64_t have = (1 << 20) + 777;
  std::ofstream(part, std::ios::binary) << registry_->bytes_.substr(0, have);
  auto result = RegistryClient(*connection_).Download("m/3", path);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->resumed_from, have);
  EXPECT_EQ(result->received,
            static_cast<int64_t>(registry_->bytes_.size()) - have);
  EXPECT_THAT(registry_->offsets_, ElementsAre(have));
}

TEST_F(ClientTest, ACorruptPartFileIsDataLossAndRemoved) {
  registry_->drop_first_ = false;
  const std::string path = dir_ + "/m.pxf";
  const std::string part = path + "." + registry_->checkpoint_.uuid() + ".part";
  std::ofstream(part, std::ios::binary)
      << std::string(1000, 'x');  // wrong bytes
  auto result = RegistryClient(*connection_).Download("m/3", path);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(result.status().message(),
              ::testing::HasSubstr("partial file was removed"));
  EXPECT_FALSE(std::filesystem::exists(part));
  EXPECT_FALSE(std::filesystem::exists(path));
  // Run again: a clean download.
  EXPECT_TRUE(RegistryClient(*connection_).Download("m/3", path).ok());
}

TEST(ConnectionTest, RejectsUnusableOptions) {
  ClientOptions options;
  options.target = "";
  EXPECT_THAT(Connection::Open(options).status().message(),
              ::testing::HasSubstr("server address"));
  options.target = "127.0.0.1:1";
  options.tls.enabled = true;
  options.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(Connection::Open(options).status().message(),
              ::testing::HasSubstr(
                  "tls.ca_file \"/nonexistent/ca.pem\" cannot be read"));
  options.tls.ca_file = "";
  options.tls.cert_file = "/x.pem";
  EXPECT_THAT(Connection::Open(options).status().message(),
              ::testing::HasSubstr("go together"));
}

}  // namespace
}  // namespace proxflow::client
