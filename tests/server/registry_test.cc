// CheckpointRegistry over gRPC with the fake backend: training writes
// versions with lineage and the latest/best aliases, retention, refs, user
// aliases with history, tags and pins, soft delete and GC, fine-tuning,
// concurrent readers. Transfers are in registry_transfer_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/base/file_util.h"
#include "core/base/sha256.h"
#include "tests/server/registry_fixture.h"

namespace proxflow::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(RegistryTest, TrainingWritesVersionsWithLineageAliasesAndRetention) {
  // Evaluations rank step 10 best: |it - 10| + 1.
  backend_.SetEvalMetric([](int64_t it) { return std::abs(it - 10.0) + 1; });
  const pb::Job job = Run(Config(20));
  ASSERT_EQ(job.state(), pb::JOB_STATE_SUCCEEDED);

  // Checkpoints at 5, 10, 15, 20 became versions 1..4; retention (keep the
  // newest 3 and the best 1) soft-deleted version 1 and purged its file.
  EXPECT_THAT(ReadyVersions(), ElementsAre(2, 3, 4));
  const pb::Checkpoint v1 = Get(std::string(kModel) + "/1");
  EXPECT_EQ(v1.status(), pb::CHECKPOINT_STATUS_DELETED);
  EXPECT_TRUE(v1.purged());
  EXPECT_THAT(v1.status_reason(), HasSubstr("keep_latest=3 keep_best=1"));
  EXPECT_FALSE(std::filesystem::exists(BlobPath(v1.files(0).sha256())));

  const pb::Checkpoint latest = Get(std::string(kModel) + "@latest");
  EXPECT_EQ(latest.version(), 4);
  EXPECT_EQ(latest.status(), pb::CHECKPOINT_STATUS_READY);
  EXPECT_EQ(latest.source(), pb::CHECKPOINT_SOURCE_TRAINING);
  EXPECT_EQ(latest.lineage().job_id(), job.id());
  EXPECT_EQ(latest.lineage().attempt(), 1);
  EXPECT_EQ(latest.lineage().step(), 20);
  EXPECT_EQ(latest.lineage().resolved_config().model(), kModel);
  EXPECT_EQ(latest.lineage().resolved_config().registry().keep_latest(), 3);
  EXPECT_EQ(latest.metrics().at("sinkhorn"), 11.0);
  EXPECT_EQ(latest.metrics_step(), 20);
  EXPECT_FALSE(latest.build().proxflow_version().empty());
  EXPECT_EQ(latest.build().libtorch_version(), "fake-torch");
  EXPECT_EQ(latest.build().device(), "cpu");
  EXPECT_TRUE(latest.has_create_time() && latest.has_status_time());
  ASSERT_EQ(latest.files_size(), 1);
  const std::string bytes =
      absl::StrCat("fake-ckpt:20\n", job.resolved_config().SerializeAsString());
  EXPECT_EQ(latest.files(0).sha256(), Sha256Hex(bytes));
  EXPECT_EQ(latest.size_bytes(), static_cast<int64_t>(bytes.size()));
  EXPECT_THAT(latest.aliases(), ElementsAre("latest"));

  const pb::Checkpoint best = Get(std::string(kModel) + "@best");
  EXPECT_EQ(best.version(), 2);
  EXPECT_EQ(best.lineage().step(), 10);
  // All three ref forms name the same version.
  EXPECT_EQ(Get(best.uuid()).version(), 2);
  EXPECT_EQ(Get(std::string(kModel) + "/2").uuid(), best.uuid());

  // The training-maintained alias moves are in the history, newest first.
  pb::ListAliasHistoryRequest request;
  request.set_model(kModel);
  request.set_alias("best");
  pb::ListAliasHistoryResponse history;
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::ListAliasHistory, request, &history)
          .ok());
  ASSERT_EQ(history.changes_size(), 2);
  EXPECT_EQ(history.changes(0).version(), 2);
  EXPECT_EQ(history.changes(0).previous_version(), 1);
  EXPECT_EQ(history.changes(0).actor(), "training:" + job.id());
  EXPECT_EQ(history.changes(1).version(), 1);
  EXPECT_EQ(history.changes(1).previous_version(), 0);

  pb::ListModelsResponse models;
  ASSERT_TRUE(Call(&pb::CheckpointRegistry::Stub::ListModels,
                   pb::ListModelsRequest(), &models)
                  .ok());
  ASSERT_EQ(models.models_size(), 1);
  EXPECT_EQ(models.models(0).name(), kModel);
  EXPECT_EQ(models.models(0).latest_version(), 4);
  EXPECT_EQ(models.models(0).ready_versions(), 3);
  EXPECT_EQ(models.models(0).aliases().at("best"), 2);
  EXPECT_EQ(models.models(0).aliases().at("latest"), 4);

  // The job's events name the versions.
  std::vector<int64_t> saved;
  for (const auto& e : Watch(job.id()))
    if (e.has_checkpoint_saved())
      saved.push_back(e.checkpoint_saved().version());
  EXPECT_THAT(saved, ElementsAre(1, 2, 3, 4));
}

TEST_F(RegistryTest, UserAliasesMoveWithHistory) {
  Run(Config(20));  // versions 2, 3, 4 READY; 4 is latest and best
  pb::SetAliasResponse response;
  ASSERT_TRUE(SetAlias("prod", std::string(kModel) + "/2", &response).ok());
  EXPECT_EQ(response.previous_version(), 0);
  EXPECT_THAT(response.checkpoint().aliases(), ElementsAre("prod"));
  ASSERT_TRUE(
      SetAlias("prod", std::string(kModel) + "@latest", &response).ok());
  EXPECT_EQ(response.previous_version(), 2);
  EXPECT_EQ(Get(std::string(kModel) + "@prod").version(), 4);

  pb::DeleteAliasRequest del;
  del.set_model(kModel);
  del.set_alias("prod");
  pb::DeleteAliasResponse deleted;
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::DeleteAlias, del, &deleted).ok());
  EXPECT_EQ(deleted.previous_version(), 4);
  pb::Checkpoint gone;
  EXPECT_EQ(GetCheckpoint(std::string(kModel) + "@prod", &gone).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Call(&pb::CheckpointRegistry::Stub::DeleteAlias, del, &deleted)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  pb::ListAliasHistoryRequest request;
  request.set_model(kModel);
  request.set_alias("prod");
  request.set_page_size(2);
  pb::ListAliasHistoryResponse page1, page2;
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::ListAliasHistory, request, &page1)
          .ok());
  request.set_page_token(page1.next_page_token());
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::ListAliasHistory, request, &page2)
          .ok());
  std::vector<std::pair<int64_t, int64_t>> moves;
  for (const auto* page : {&page1, &page2})
    for (const auto& c : page->changes())
      moves.emplace_back(c.version(), c.previous_version());
  EXPECT_THAT(moves, ElementsAre(std::make_pair(0, 4), std::make_pair(4, 2),
                                 std::make_pair(2, 0)));
  EXPECT_EQ(page1.changes(0).actor(), "user");
  EXPECT_TRUE(page2.next_page_token().empty());

  // Refused: training's aliases, numeric aliases, other models, bad refs.
  grpc::Status s = SetAlias("latest", std::string(kModel) + "/2");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("maintained by training"));
  s = SetAlias("7", std::string(kModel) + "/2");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("alias"));
  s = SetAlias("prod", "other/1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  s = SetAlias("prod", "not a ref");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("ref must be"));
  s = SetAlias("prod", std::string(kModel) + "/1");  // DELETED by retention
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("DELETED"));
}

TEST_F(RegistryTest, RetentionAndGcNeverDeletePinnedOrAliasedVersions) {
  pb::TrainingConfig config = Config(20);
  config.mutable_registry()->set_keep_latest(1);
  config.mutable_registry()->set_keep_best(0);
  backend_.HoldAt(6);  // after the checkpoint at 5
  pb::Job job;
  ASSERT_TRUE(Submit(config, &job).ok());
  Watch(job.id(), 0, [](const pb::JobEvent& e) {
    return e.has_checkpoint_saved() && e.checkpoint_saved().step() == 5;
  });
  ASSERT_TRUE(Pin(std::string(kModel) + "/1", true).ok());
  backend_.HoldAt(11);  // after the checkpoint at 10
  Watch(job.id(), 0, [](const pb::JobEvent& e) {
    return e.has_checkpoint_saved() && e.checkpoint_saved().step() == 10;
  });
  ASSERT_TRUE(SetAlias("prod", std::string(kModel) + "/2").ok());
  backend_.Release();
  Watch(job.id());

  // keep_latest=1 kept only version 4 of its own accord; 1 is pinned and 2
  // aliased, so they stay; 3 went.
  EXPECT_THAT(ReadyVersions(), ElementsAre(1, 2, 4));
  EXPECT_EQ(Get(std::string(kModel) + "/3").status(),
            pb::CHECKPOINT_STATUS_DELETED);
  EXPECT_TRUE(Gc(false).expire().empty());

  // Unpinned, version 1 is due; the preview changes nothing.
  ASSERT_TRUE(Pin(std::string(kModel) + "/1", false).ok());
  const std::string blob1 = Get(std::string(kModel) + "/1").files(0).sha256();
  // An orphan blob, as a crash between a file write and its record leaves.
  const std::string orphan = "orphan bytes";
  const std::string orphan_sha = Sha256Hex(orphan);
  std::filesystem::create_directories(BlobPath(orphan_sha).parent_path());
  ASSERT_TRUE(WriteFileAtomically(BlobPath(orphan_sha).string(), orphan).ok());

  const pb::GcPlan preview = Gc(false);
  EXPECT_THAT(VersionsOf(preview.expire()), ElementsAre(1));
  EXPECT_THAT(preview.orphan_blobs(), ElementsAre(orphan_sha));
  EXPECT_GT(preview.reclaimed_bytes(), static_cast<int64_t>(orphan.size()));
  EXPECT_THAT(ReadyVersions(), ElementsAre(1, 2, 4));
  EXPECT_TRUE(std::filesystem::exists(BlobPath(blob1)));
  EXPECT_TRUE(std::filesystem::exists(BlobPath(orphan_sha)));

  const pb::GcPlan done = Gc(true);
  EXPECT_EQ(done.reclaimed_bytes(), preview.reclaimed_bytes());
  EXPECT_THAT(ReadyVersions(), ElementsAre(2, 4));
  EXPECT_FALSE(std::filesystem::exists(BlobPath(blob1)));
  EXPECT_FALSE(std::filesystem::exists(BlobPath(orphan_sha)));
  EXPECT_TRUE(Get(std::string(kModel) + "/1").purged());
  // The kept versions still download and verify.
  for (const char* ref : {"/2", "/4"}) {
    const Downloaded d = Download(std::string(kModel) + ref);
    ASSERT_TRUE(d.status.ok()) << ref << d.status.error_message();
    EXPECT_EQ(Sha256Hex(d.bytes), d.header.files(0).sha256());
  }
  const pb::GcPlan again = Gc(false);
  EXPECT_TRUE(again.expire().empty() && again.purge().empty() &&
              again.orphan_blobs().empty());
}

TEST_F(RegistryTest, DeleteIsSoftUntilGcAndRefusesProtectedVersions) {
  Run(Config(20));  // 2, 3, 4 (best and latest)
  pb::DeleteCheckpointRequest request;
  pb::Checkpoint out;
  request.set_ref(std::string(kModel) + "@best");
  grpc::Status s =
      Call(&pb::CheckpointRegistry::Stub::DeleteCheckpoint, request, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("aliased (best, latest)"));
  ASSERT_TRUE(Pin(std::string(kModel) + "/3", true).ok());
  request.set_ref(std::string(kModel) + "/3");
  s = Call(&pb::CheckpointRegistry::Stub::DeleteCheckpoint, request, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("pinned"));
  ASSERT_TRUE(Pin(std::string(kModel) + "/3", false).ok());

  request.set_reason("superseded");
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::DeleteCheckpoint, request, &out)
          .ok());
  EXPECT_EQ(out.status(), pb::CHECKPOINT_STATUS_DELETED);
  EXPECT_EQ(out.status_reason(), "deleted by user: superseded");
  EXPECT_FALSE(out.purged());
  EXPECT_TRUE(std::filesystem::exists(BlobPath(out.files(0).sha256())));
  EXPECT_THAT(ReadyVersions(), ElementsAre(2, 4));
  EXPECT_EQ(Download(out.uuid()).status.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Deleting again is a no-op.
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::DeleteCheckpoint, request, &out)
          .ok());

  const pb::GcPlan plan = Gc(true);
  EXPECT_THAT(VersionsOf(plan.purge()), ::testing::Contains(3));
  EXPECT_TRUE(Get(out.uuid()).purged());
  EXPECT_FALSE(std::filesystem::exists(BlobPath(out.files(0).sha256())));
}

TEST_F(RegistryTest, RefsAndListFiltersAreChecked) {
  Run(Config(20));
  pb::Checkpoint c;
  EXPECT_EQ(GetCheckpoint(std::string(kModel) + "/99", &c).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GetCheckpoint(std::string(kModel) + "@nope", &c).error_code(),
            grpc::StatusCode::NOT_FOUND);
  for (const char* bad : {"", "m/0", "m/x", "a/b/c", "m@", "/3", "m@1"}) {
    const grpc::Status s = GetCheckpoint(bad, &c);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_THAT(s.error_message(), HasSubstr("ref must be")) << bad;
  }

  pb::UpdateCheckpointRequest update;
  update.set_ref(std::string(kModel) + "/3");
  update.set_set_tags(true);
  update.add_tags("b");
  update.add_tags("a");
  update.add_tags("a");
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::UpdateCheckpoint, update, &c).ok());
  EXPECT_THAT(c.tags(), ElementsAre("a", "b"));
  EXPECT_FALSE(c.pinned());
  update.clear_set_tags();
  EXPECT_EQ(Call(&pb::CheckpointRegistry::Stub::UpdateCheckpoint, update, &c)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  pb::ListCheckpointsRequest request;
  request.set_tag("a");
  EXPECT_THAT(Versions(request), ElementsAre(3));
  request.clear_tag();
  request.set_model(kModel);
  request.add_statuses(pb::CHECKPOINT_STATUS_READY);
  request.add_statuses(pb::CHECKPOINT_STATUS_DELETED);
  request.set_page_size(2);
  pb::ListCheckpointsResponse page;
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::ListCheckpoints, request, &page)
          .ok());
  EXPECT_THAT(VersionsOf(page.checkpoints()), ElementsAre(1, 2));
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::ListCheckpoints, request, &page)
          .ok());
  EXPECT_THAT(VersionsOf(page.checkpoints()), ElementsAre(3, 4));
  EXPECT_TRUE(page.next_page_token().empty());

  struct Bad {
    std::function<void(pb::ListCheckpointsRequest&)> edit;
    std::string field;
  };
  for (const Bad& b : std::vector<Bad>{
           {[](auto& r) { r.set_model("a b"); }, "model"},
           {[](auto& r) { r.set_tag("a b"); }, "tag"},
           {[](auto& r) {
              r.add_statuses(static_cast<pb::CheckpointStatus>(42));
            },
            "statuses[0]"},
           {[](auto& r) { r.set_page_size(5000); }, "page_size"},
           {[](auto& r) { r.set_page_token("garbage"); }, "page_token"}}) {
    pb::ListCheckpointsRequest r;
    b.edit(r);
    const grpc::Status s =
        Call(&pb::CheckpointRegistry::Stub::ListCheckpoints, r, &page);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << b.field;
    EXPECT_THAT(s.error_message(), HasSubstr(b.field));
  }
}

TEST_F(RegistryTest, FineTuningStartsFromAPinnedParentAndRecordsIt) {
  Run(Config(10));  // reg-model/1, /2
  const pb::Checkpoint parent = Get(std::string(kModel) + "@latest");
  pb::TrainingConfig config = Config(10);
  config.set_model("tuned");
  config.set_init_from(std::string(kModel) + "@latest");
  const pb::Job job = Run(config);
  ASSERT_EQ(job.state(), pb::JOB_STATE_SUCCEEDED) << job.failure_reason();
  // Resolved to the uuid at submission; the run started from those bytes.
  EXPECT_EQ(job.resolved_config().init_from(), parent.uuid());
  EXPECT_EQ(Sha256Hex(backend_.last_init()), parent.files(0).sha256());
  const pb::Checkpoint child = Get("tuned@latest");
  EXPECT_EQ(child.lineage().parent_uuid(), parent.uuid());

  pb::Job rejected;
  config.set_init_from("missing/1");
  grpc::Status s = Submit(config, &rejected);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("training.init_from"));
  config.set_init_from("not a ref");
  s = Submit(config, &rejected);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("training.init_from must be"));
  config.set_init_from(std::string(kModel) + "/1");  // an older version
  s = Submit(config, &rejected, "", /*validate_only=*/true);
  EXPECT_TRUE(s.ok()) << s.error_message();
  pb::DeleteCheckpointRequest del;
  del.set_ref(std::string(kModel) + "/1");
  pb::Checkpoint deleted;
  ASSERT_TRUE(
      Call(&pb::CheckpointRegistry::Stub::DeleteCheckpoint, del, &deleted)
          .ok());
  s = Submit(config, &rejected);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("DELETED"));
}

TEST_F(RegistryTest, ConcurrentReadersSeeOnlyCompleteVersionsWhileTraining) {
  pb::TrainingConfig config = Config(400);
  config.mutable_registry()->set_keep_latest(1000);
  pb::Job job;
  ASSERT_TRUE(Submit(config, &job).ok());
  std::atomic<bool> done{false};
  std::atomic<int> downloads{0}, failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const Downloaded d = Download(std::string(kModel) + "@latest");
        if (d.status.error_code() == grpc::StatusCode::NOT_FOUND) continue;
        if (!d.status.ok() ||
            d.header.status() != pb::CHECKPOINT_STATUS_READY ||
            Sha256Hex(d.bytes) != d.header.files(0).sha256()) {
          ++failures;
        }
        ++downloads;
        pb::ListCheckpointsRequest request;
        request.set_model(kModel);
        request.add_statuses(pb::CHECKPOINT_STATUS_READY);
        grpc::ClientContext context;
        pb::ListCheckpointsResponse response;
        if (!registry_->ListCheckpoints(&context, request, &response).ok())
          ++failures;
        for (const auto& c : response.checkpoints())
          if (c.status() != pb::CHECKPOINT_STATUS_READY) ++failures;
      }
    });
  }
  Watch(job.id());
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(downloads.load(), 0);
  EXPECT_EQ(ReadyVersions().size(), 80u);
}

}  // namespace
}  // namespace proxflow::server::testing
