// proxflow-server as a real process, stopped or moved: SIGTERM (checkpoint,
// clean exit, watchers told UNAVAILABLE) and a checkpoint carried between two
// servers byte for byte. The crash tests: server_process_crash_test.cc.
#include "tests/server/server_process_fixture.h"

namespace proxflow::server::process_test {
namespace {

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
}  // namespace proxflow::server::process_test
