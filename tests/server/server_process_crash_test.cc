// proxflow-server as a real process, killed: kill -9 mid-training and
// restart, a kill inside a checkpoint write, ten random kills, a full disk.
#include "tests/server/server_process_fixture.h"

namespace proxflow::server::process_test {
namespace {

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

}  // namespace
}  // namespace proxflow::server::process_test
