// proxflow-server as a real process (LibTorch backend): kill -9 mid-training
// and restart, SIGTERM and restart. The binary comes from PROXFLOW_SERVER_BIN.
#include "tests/testing/server_process.h"

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

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;
using ::proxflow::testing::ServerProcess;
using ::testing::ElementsAre;

std::chrono::system_clock::time_point Deadline(int seconds) {
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

TEST_F(ServerProcessTest, KillNineMidTrainingThenRestartResumes) {
  ServerProcess first(data_dir_);
  Connect(first.Start());
  const std::string id = SubmitToy(300);
  Watch(id, [](const pb::JobEvent& e) {
    return e.has_checkpoint_saved() && e.checkpoint_saved().step() >= 100;
  });
  first.Kill(SIGKILL);

  ServerProcess second(data_dir_);
  Connect(second.Start());
  const auto events = Watch(id);
  ExpectResumedHistory(events, 300);
  EXPECT_EQ(second.Kill(SIGTERM), 0);
}

TEST_F(ServerProcessTest, SigtermCheckpointsAndExitsCleanly) {
  ServerProcess first(data_dir_);
  Connect(first.Start());
  // Long enough that the job is still running when the SIGTERM lands (toy
  // training runs at ~100 it/s here; 200 iterations raced the signal).
  const std::string id = SubmitToy(1000);
  Watch(id, [](const pb::JobEvent& e) {
    return e.has_progress() && e.progress().step() >= 60;
  });
  const int status = first.Kill(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  ServerProcess second(data_dir_);
  Connect(second.Start());
  const auto events = Watch(id);
  ExpectResumedHistory(events, 1000);
  // The shutdown checkpoint is off the 50-step grid: the step it stopped at.
  int64_t restart_step = 0;
  for (const auto& e : events)
    if (e.has_state_change() &&
        e.state_change().to() == pb::JOB_STATE_RESTARTING)
      restart_step = e.state_change().step();
  EXPECT_GE(restart_step, 60);
}

// Independent watchers (one channel each, as separate clients are) that
// reconnect a few milliseconds after each end of their stream, through
// SIGTERMs: the drain contract is UNAVAILABLE "reconnect with after_sequence
// N" for every stream the server ends, and a refused connection once it is
// gone; never CANCELLED (issue 21 §2: 2 of 4 SIGTERMs gave a watcher
// CANCELLED, from a reconnect that reached the server after gRPC's own
// Shutdown began, which gRPC answers CANCELLED).
TEST_F(ServerProcessTest, SigtermGivesEveryWatcherUnavailableNeverCancelled) {
  constexpr int kWatchers = 4;
  constexpr int kRounds = 3;
  std::string id;
  for (int round = 0; round < kRounds; ++round) {
    ServerProcess server(data_dir_);
    const int port = server.Start();
    Connect(port);
    if (round == 0) id = SubmitToy(1000000, 1000000);
    Watch(id, [](const pb::JobEvent& e) { return e.has_progress(); });
    std::atomic<bool> gone{false};
    std::atomic<int> streams_open{0};
    struct Seen {
      std::vector<std::string> ends;  // "CODE: message" of each stream end
      int drained = 0;                // UNAVAILABLE "... after_sequence N"
    };
    std::vector<Seen> seen(kWatchers);
    std::vector<std::thread> watchers;
    for (int w = 0; w < kWatchers; ++w) {
      watchers.emplace_back([&, w] {
        std::mt19937 gen(100 * round + w);
        auto channel =
            grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                      grpc::InsecureChannelCredentials(), [w] {
                                        grpc::ChannelArguments a;
                                        a.SetInt("proxflow.watcher", w);
                                        return a;
                                      }());
        auto stub = pb::TrainingService::NewStub(channel);
        int64_t after = 0;
        bool counted = false;
        const auto deadline = Deadline(120);
        while (std::chrono::system_clock::now() < deadline) {
          grpc::ClientContext context;
          context.set_deadline(Deadline(60));
          pb::WatchJobRequest request;
          request.set_job_id(id);
          request.set_after_sequence(after);
          auto reader = stub->WatchJob(&context, request);
          pb::JobEvent e;
          while (reader->Read(&e)) {
            after = std::max(after, e.sequence());
            if (!counted) {
              counted = true;
              ++streams_open;
            }
          }
          const grpc::Status s = reader->Finish();
          seen[w].ends.push_back(
              absl::StrCat(s.error_code(), ": ", s.error_message()));
          if (absl::StrContains(s.error_message(), "after_sequence"))
            ++seen[w].drained;
          if (s.error_code() != grpc::StatusCode::UNAVAILABLE) return;
          if (gone.load()) return;  // the refusal after the exit
          // The client's own backoff (seeded), as short as a careless one.
          std::this_thread::sleep_for(std::chrono::milliseconds(
              std::uniform_int_distribution<int>(1, 20)(gen)));
        }
      });
    }
    // Every watcher is streaming before the signal.
    const auto ready_by = Deadline(60);
    while (streams_open.load() < kWatchers &&
           std::chrono::system_clock::now() < ready_by)
      std::this_thread::yield();
    ASSERT_EQ(streams_open.load(), kWatchers);
    const int status = server.Kill(SIGTERM);
    gone = true;
    for (std::thread& t : watchers) t.join();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    for (int w = 0; w < kWatchers; ++w) {
      for (const std::string& end : seen[w].ends) {
        EXPECT_TRUE(absl::StartsWith(end, "14: "))
            << "round " << round << " watcher " << w << ": " << end
            << " (all: " << absl::StrJoin(seen[w].ends, " | ") << ")";
      }
      EXPECT_GE(seen[w].drained, 1)
          << "round " << round << " watcher " << w << ": "
          << absl::StrJoin(seen[w].ends, " | ");
    }
  }
}

TEST_F(ServerProcessTest, KillDuringCheckpointWriteLeavesNoHalfVisibleVersion) {
  // The server kills itself (SIGKILL) during its second checkpoint save: the
  // file is stored, its version is still PENDING.
  ServerProcess first(data_dir_);
  Connect(first.Start("registry.after_blob_write:2"));
  const std::string id = SubmitToy(200);
  const int status = first.Wait();
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  ServerProcess second(data_dir_);
  Connect(second.Start());
  const auto events = Watch(id);
  ASSERT_FALSE(events.empty());
  ASSERT_TRUE(events.back().has_state_change());
  EXPECT_EQ(events.back().state_change().to(), pb::JOB_STATE_SUCCEEDED);
  // The half-written version never became READY: recovery marked it FAILED,
  // and the job resumed from the previous good one (step 50).
  const auto failed = Versions(id, pb::CHECKPOINT_STATUS_FAILED);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].version(), 2);
  EXPECT_EQ(failed[0].lineage().step(), 100);
  EXPECT_THAT(failed[0].status_reason(), ::testing::HasSubstr("interrupted"));
  int64_t resumed_from = -1;
  for (const auto& e : events) {
    if (e.has_state_change() &&
        e.state_change().to() == pb::JOB_STATE_RUNNING &&
        e.state_change().attempt() == 2) {
      resumed_from = e.state_change().step();
    }
  }
  EXPECT_EQ(resumed_from, 50);
  // Every READY version is complete: the newest three steps of the job
  // (retention keeps 3), and they download with matching hashes.
  std::vector<int64_t> steps;
  for (const auto& c : Versions(id, pb::CHECKPOINT_STATUS_READY))
    steps.push_back(c.lineage().step());
  ExpectRegistryIntact({id}, /*allow_pending=*/false);
  EXPECT_THAT(steps, ElementsAre(100, 150, 200));

  // GC purges the failed version; versions that share its file (the resumed
  // run wrote step 100 again) keep theirs.
  grpc::ClientContext context;
  context.set_deadline(Deadline(60));
  pb::GcPlan plan;
  ASSERT_TRUE(registry_->RunGc(&context, pb::GcRequest(), &plan).ok());
  EXPECT_EQ(Versions(id, pb::CHECKPOINT_STATUS_READY).size(), 3u);
  EXPECT_EQ(second.Kill(SIGTERM), 0);
}

// Ten SIGKILLs at seeded random points — inside the checkpoint path (a
// pending version, a written file, a READY version the job record does not
// know yet) or from outside after a random amount of training — each followed
// by a restart. Afterwards every job has SUCCEEDED with its full iteration
// count, and after every restart each READY version downloads whole with the
// hash its record states; none is left PENDING.
TEST_F(ServerProcessTest, TenRandomKillsDuringTrainingAndCheckpointing) {
  std::mt19937 rng(20261123);
  std::vector<std::string> points = {
      "registry.after_pending", "registry.after_blob_write",
      "registry.after_ready", "job.after_checkpoint_saved"};
  constexpr int64_t kIterations = 400;
  const std::vector<std::string> extra = {"--max_concurrent_jobs=2"};
  std::vector<std::string> jobs;
  std::vector<std::string> report;
  int crash_point_kills = 0, external_kills = 0;
  for (int round = 0; round < 10; ++round) {
    // Rounds 0-3 visit each crash point once, in a random order; the rest
    // are a coin toss between a random crash point and an outside kill.
    if (round == 0) std::shuffle(points.begin(), points.end(), rng);
    const bool inside = round < 4 || rng() % 2 == 0;
    const std::string point = points[round < 4 ? round : rng() % points.size()];
    const int hit = 1 + static_cast<int>(rng() % 2);
    const int64_t steps = 20 + static_cast<int64_t>(rng() % 60);
    ServerProcess server(data_dir_);
    Connect(server.Start(inside ? absl::StrCat(point, ":", hit) : "", extra));
    if (round > 0) ExpectRegistryIntact(jobs, /*allow_pending=*/false);
    if (jobs.empty()) {
      jobs = {SubmitToy(kIterations), SubmitToy(kIterations)};
    }
    // The first job still running; watch it until the server dies (crash
    // point) or it has trained `steps` more iterations (then kill it here).
    std::string target;
    for (const std::string& id : jobs)
      if (target.empty() && !Finished(id)) target = id;
    ASSERT_FALSE(target.empty()) << "every job finished before round " << round
                                 << "; " << absl::StrJoin(report, "; ");
    const int64_t start = CurrentStep(target);
    const auto events = Watch(target, [&](const pb::JobEvent& e) {
      return !inside && e.has_progress() &&
             e.progress().step() >= start + steps;
    });
    // Inside rounds: the stream breaks when the server kills itself; should
    // the job end first, the kill comes from here.
    const bool fired =
        inside && !events.empty() &&
        !(events.back().has_state_change() &&
          events.back().state_change().to() == pb::JOB_STATE_SUCCEEDED);
    const int status = server.Kill(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round;
    ASSERT_EQ(WTERMSIG(status), SIGKILL);
    (fired ? crash_point_kills : external_kills)++;
    report.push_back(fired ? absl::StrCat(point, ":", hit)
                           : absl::StrCat("external at step >= ",
                                          start + (inside ? 0 : steps)));
  }
  ServerProcess last(data_dir_);
  Connect(last.Start("", extra));
  for (const std::string& id : jobs) {
    const auto events = Watch(id);
    ASSERT_FALSE(events.empty());
    ASSERT_TRUE(events.back().has_state_change()) << id;
    EXPECT_EQ(events.back().state_change().to(), pb::JOB_STATE_SUCCEEDED)
        << id << " " << events.back().state_change().reason();
    EXPECT_EQ(events.back().state_change().step(), kIterations) << id;
  }
  ExpectRegistryIntact(jobs, /*allow_pending=*/false);
  std::printf("kills: %d at crash points, %d external: %s\n", crash_point_kills,
              external_kills, absl::StrJoin(report, "; ").c_str());
  EXPECT_EQ(crash_point_kills + external_kills, 10);
  EXPECT_GE(crash_point_kills, 4);
  EXPECT_EQ(last.Kill(SIGTERM), 0);
}

// A real full disk: the data directory on an 8 MiB tmpfs (needs root and
// mount(2); skipped with the reason otherwise), filled to the last byte while
// the server runs. Training, checkpoint saves and uploads fail with errors
// that say the disk is full; the server keeps answering; nothing stored
// before is lost or corrupted; once space is freed, work succeeds again,
// also across a restart.
TEST_F(ServerProcessTest, FullDiskGivesClearErrorsAndLosesNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  if (mount("tmpfs", data_dir_.c_str(), "tmpfs", 0, "size=8m") != 0) {
    GTEST_SKIP() << "mount -t tmpfs is not permitted here: "
                 << std::strerror(errno);
  }
  mounted_ = true;
  ServerProcess server(data_dir_);
  Connect(server.Start());
  auto datasets = pb::DatasetService::NewStub(channel_);
  const std::string before = SubmitToy(100);
  Watch(before);
  ASSERT_TRUE(Finished(before));
  const auto stored = Versions(before, pb::CHECKPOINT_STATUS_READY);
  ASSERT_FALSE(stored.empty());

  const auto says_full = [](absl::string_view text) {
    return absl::StrContains(text, "No space left on device") ||
           absl::StrContains(text, "disk is full");
  };
  // A job that is training when the disk fills up.
  const std::string running = SubmitToy(5000, /*checkpoint_interval=*/20);
  Watch(running,
        [](const pb::JobEvent& e) { return e.has_checkpoint_saved(); });

  // Fill the file system.
  const std::string filler = data_dir_ + "/filler";
  {
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    const std::string block(64 << 10, 'x');
    for (size_t n = block.size(); n >= 1; n /= 2) {
      while (::write(fd, block.data(), n) == static_cast<ssize_t>(n)) {
      }
    }
    ::close(fd);
  }
  // Its next checkpoint fails; so does recording FAILED (the database
  // cannot grow either): the server says so and retries.
  const std::string refusal = server.WaitForLog("cannot record", 300);
  ASSERT_FALSE(refusal.empty()) << "no refusal logged";
  std::printf("log while the disk is full: %s", refusal.c_str());
  EXPECT_TRUE(says_full(refusal)) << refusal;
  // Training: refused at submission, or the job fails saying why.
  std::string training_error;
  {
    std::string id;
    const grpc::Status s = TrySubmitToy(40, 20, &id);
    if (!s.ok()) {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
      training_error = s.error_message();
    } else {
      const auto events = Watch(id);
      ASSERT_TRUE(events.back().has_state_change());
      EXPECT_EQ(events.back().state_change().to(), pb::JOB_STATE_FAILED);
      training_error = GetJob(id).failure_reason();
    }
  }
  EXPECT_TRUE(says_full(training_error)) << training_error;
  std::printf("training on a full disk: %s\n", training_error.c_str());
  // A dataset upload.
  std::string data = "PXFA";
  const uint32_t version = 1;
  const int64_t rows = 4096, cols = 2;
  data.append(reinterpret_cast<const char*>(&version), 4);
  data.append(reinterpret_cast<const char*>(&rows), 8);
  data.append(reinterpret_cast<const char*>(&cols), 8);
  data.append(rows * cols * sizeof(float), '\0');
  const auto upload = [&] {
    grpc::ClientContext context;
    context.set_deadline(Deadline(60));
    pb::Dataset response;
    auto writer = datasets->UploadDataset(&context, &response);
    pb::UploadDatasetRequest r;
    r.mutable_header()->set_name("points");
    r.mutable_header()->set_format(pb::DATASET_FORMAT_FLOAT32_ARRAY);
    r.mutable_header()->set_sha256(Sha256Hex(data));
    r.mutable_header()->set_size_bytes(static_cast<int64_t>(data.size()));
    writer->Write(r);
    r.set_chunk(data);
    writer->Write(r);
    writer->WritesDone();
    return writer->Finish();
  };
  const grpc::Status refused = upload();
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(says_full(refused.error_message())) << refused.error_message();
  std::printf("upload on a full disk: %d %s\n", refused.error_code(),
              refused.error_message().c_str());
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  // Still serving, nothing lost.
  ExpectRegistryIntact({before}, /*allow_pending=*/false);
  EXPECT_EQ(Versions(before, pb::CHECKPOINT_STATUS_READY).size(),
            stored.size());

  // Space again: the running job's end is recorded with its reason, and the
  // same work succeeds, before and after a restart.
  ASSERT_EQ(::unlink(filler.c_str()), 0);
  {
    const auto events = Watch(running);
    ASSERT_TRUE(events.back().has_state_change());
    const pb::Job job = GetJob(running);
    std::printf("job training while the disk filled: %s at step %lld: %s\n",
                pb::JobState_Name(job.state()).c_str(),
                static_cast<long long>(job.progress().step()),
                job.failure_reason().c_str());
    EXPECT_EQ(job.state(), pb::JOB_STATE_FAILED);
    EXPECT_TRUE(says_full(job.failure_reason())) << job.failure_reason();
  }
  ExpectRegistryIntact({before, running}, /*allow_pending=*/false);
  EXPECT_TRUE(upload().ok());
  EXPECT_EQ(server.Kill(SIGTERM), 0);
  ServerProcess again(data_dir_);
  Connect(again.Start());
  ExpectRegistryIntact({before}, /*allow_pending=*/false);
  const std::string after = SubmitToy(40);
  const auto events = Watch(after);
  ASSERT_TRUE(events.back().has_state_change());
  EXPECT_EQ(events.back().state_change().to(), pb::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(again.Kill(SIGTERM), 0);
}

TEST_F(ServerProcessTest, ACheckpointMovesBetweenServersByteForByte) {
  ServerProcess a(data_dir_);
  Connect(a.Start());
  const std::string id = SubmitToy(100);
  Watch(id);
  const auto source = Versions(id, pb::CHECKPOINT_STATUS_READY);
  ASSERT_FALSE(source.empty());
  const pb::Checkpoint& original = source.back();
  const auto download = [&](const std::string& ref) { return Download(ref); };
  const std::string bytes = download(original.uuid());
  ASSERT_EQ(static_cast<int64_t>(bytes.size()), original.size_bytes());

  char pattern[] = "/tmp/proxflow-process-test-b-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string other_dir = pattern;
  ServerProcess b(other_dir);
  Connect(b.Start());
  pb::Checkpoint moved;
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline(60));
    auto writer = registry_->UploadCheckpoint(&context, &moved);
    pb::UploadCheckpointRequest r;
    r.mutable_header()->set_model("moved");
    r.mutable_header()->set_sha256(original.files(0).sha256());
    r.mutable_header()->set_size_bytes(original.size_bytes());
    r.mutable_header()->set_parent(original.uuid());
    writer->Write(r);
    for (size_t i = 0; i < bytes.size(); i += 1 << 20) {
      r.set_chunk(bytes.substr(i, 1 << 20));
      writer->Write(r);
    }
    writer->WritesDone();
    const grpc::Status s = writer->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // The receiving server loaded it (READY only after that) and recorded
  // where it came from; its bytes are the sender's, so sampling the two
  // gives the same points (core's Trainer.ACopiedCheckpointSamplesIdentically).
  EXPECT_EQ(moved.status(), pb::CHECKPOINT_STATUS_READY);
  EXPECT_EQ(moved.files(0).sha256(), original.files(0).sha256());
  EXPECT_EQ(moved.lineage().step(), original.lineage().step());
  EXPECT_EQ(moved.lineage().parent_uuid(), original.uuid());
  EXPECT_EQ(moved.lineage().resolved_config().SerializeAsString(),
            original.lineage().resolved_config().SerializeAsString());
  EXPECT_EQ(download("moved@latest"), bytes);
  EXPECT_EQ(b.Kill(SIGTERM), 0);
  EXPECT_EQ(a.Kill(SIGTERM), 0);
  std::filesystem::remove_all(other_dir);
}

}  // namespace
}  // namespace proxflow::server
