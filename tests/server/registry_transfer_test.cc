// CheckpointRegistry transfers over gRPC with the fake backend: upload and
// download round trips, resumed downloads, integrity failures on download,
// rejected uploads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/base/file_util.h"
#include "core/base/sha256.h"
#include "tests/server/registry_fixture.h"

namespace proxflow::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(RegistryTest, UploadDownloadRoundTripAcrossModels) {
  Run(Config(10));
  const Downloaded original = Download(std::string(kModel) + "@latest", 0, 7);
  ASSERT_TRUE(original.status.ok()) << original.status.error_message();
  EXPECT_EQ(Sha256Hex(original.bytes), original.header.files(0).sha256());
  // 7-byte chunks at consecutive offsets.
  ASSERT_GT(original.offsets.size(), 2u);
  for (size_t i = 0; i < original.offsets.size(); ++i)
    EXPECT_EQ(original.offsets[i], static_cast<int64_t>(7 * i));

  pb::UploadCheckpointHeader header = Header("copy", original.bytes);
  header.add_tags("imported");
  header.set_description("from reg-model");
  header.set_parent(std::string(kModel) + "@latest");
  pb::Checkpoint uploaded;
  const grpc::Status s = Upload(header, original.bytes, &uploaded, 13);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(uploaded.model(), "copy");
  EXPECT_EQ(uploaded.version(), 1);
  EXPECT_EQ(uploaded.status(), pb::CHECKPOINT_STATUS_READY);
  EXPECT_EQ(uploaded.source(), pb::CHECKPOINT_SOURCE_UPLOAD);
  EXPECT_EQ(uploaded.lineage().parent_uuid(), original.header.uuid());
  EXPECT_EQ(uploaded.lineage().step(), 10);
  EXPECT_EQ(uploaded.lineage().resolved_config().model(), kModel);
  EXPECT_THAT(uploaded.tags(), ElementsAre("imported"));
  EXPECT_THAT(uploaded.aliases(), ElementsAre("latest"));

  const Downloaded copy = Download("copy/1");
  ASSERT_TRUE(copy.status.ok());
  EXPECT_EQ(copy.bytes, original.bytes);
  EXPECT_EQ(copy.offsets, std::vector<int64_t>{0});  // one chunk of <= 1 MiB
}

TEST_F(RegistryTest, DownloadResumesFromAnOffset) {
  Run(Config(10));
  const std::string ref = std::string(kModel) + "@latest";
  const Downloaded whole = Download(ref);
  ASSERT_TRUE(whole.status.ok());
  const int64_t half = static_cast<int64_t>(whole.bytes.size()) / 2;
  const Downloaded rest = Download(ref, half, 5);
  ASSERT_TRUE(rest.status.ok());
  EXPECT_EQ(whole.bytes.substr(0, half) + rest.bytes, whole.bytes);
  EXPECT_EQ(rest.offsets.front(), half);
  const int64_t size = static_cast<int64_t>(whole.bytes.size());
  const Downloaded at_end = Download(ref, size);
  EXPECT_TRUE(at_end.status.ok());
  EXPECT_TRUE(at_end.bytes.empty());

  const Downloaded past = Download(ref, size + 1);
  EXPECT_EQ(past.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(past.status.error_message(), HasSubstr("offset"));
  const Downloaded negative = Download(ref, -1);
  EXPECT_EQ(negative.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const Downloaded big_chunk = Download(ref, 0, (1 << 20) + 1);
  EXPECT_EQ(big_chunk.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(big_chunk.status.error_message(), HasSubstr("chunk_size_bytes"));
}

TEST_F(RegistryTest, CorruptedFileIsDetectedOnDownloadAndRecorded) {
  Run(Config(10));
  const pb::Checkpoint latest = Get(std::string(kModel) + "@latest");
  ASSERT_TRUE(WriteFileAtomically(BlobPath(latest.files(0).sha256()).string(),
                                  "bit rot")
                  .ok());
  const Downloaded d = Download(std::string(kModel) + "@latest");
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_THAT(d.status.error_message(), HasSubstr("integrity check failed"));
  const pb::Checkpoint after = Get(latest.uuid());
  EXPECT_EQ(after.status(), pb::CHECKPOINT_STATUS_FAILED);
  EXPECT_THAT(after.status_reason(), HasSubstr(latest.files(0).sha256()));
  // No longer READY: not listed by default, and not downloadable.
  EXPECT_THAT(ReadyVersions(), ElementsAre(1));
  EXPECT_EQ(Download(latest.uuid()).status.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(RegistryTest, UploadsThatAreNotVerifiedCheckpointsEndFailed) {
  pb::Checkpoint out;
  // Hash mismatch.
  pb::UploadCheckpointHeader header = Header("up", "fake-ckpt:1\n");
  header.set_sha256(Sha256Hex("something else"));
  grpc::Status s = Upload(header, "fake-ckpt:1\n", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("header.sha256"));
  // Not a checkpoint.
  s = Upload(Header("up", "hello world"), "hello world", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("not a loadable proxflow checkpoint"));
  // Fewer bytes than announced.
  header = Header("up", "0123456789");
  header.set_size_bytes(20);
  s = Upload(header, "0123456789", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("header.size_bytes is 20"));
  // More bytes than announced.
  header.set_size_bytes(4);
  s = Upload(header, "0123456789", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("header.size_bytes"));

  // Every attempt left a FAILED version with its reason, nothing READY, and
  // no file behind once GC ran.
  pb::ListCheckpointsRequest request;
  request.set_model("up");
  EXPECT_TRUE(Versions(request).empty());
  request.add_statuses(pb::CHECKPOINT_STATUS_FAILED);
  EXPECT_THAT(Versions(request), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(Get("up/2").status_reason(),
              HasSubstr("not a loadable proxflow checkpoint"));
  Gc(/*run=*/true);
  EXPECT_TRUE(Gc(/*run=*/false).orphan_blobs().empty());
  for (const auto& dir : std::filesystem::directory_iterator(
           std::filesystem::path(data_dir_) / "blobs")) {
    if (dir.path().filename() == "tmp") continue;
    EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << dir.path();
  }
}

TEST_F(RegistryTest, UploadHeaderErrorsNameTheField) {
  pb::Checkpoint out;
  const std::string bytes = "x";
  struct Case {
    std::function<void(pb::UploadCheckpointHeader&)> edit;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& h) { h.set_model("bad name"); }, "header.model"},
      {[](auto& h) { h.set_sha256("ABC"); }, "header.sha256"},
      {[](auto& h) { h.set_size_bytes(0); }, "header.size_bytes"},
      {[](auto& h) { h.add_tags("no spaces"); }, "header.tags[0]"},
      {[](auto& h) { h.set_description(std::string(1025, 'd')); },
       "header.description"},
      {[](auto& h) { h.set_parent("nope/3"); }, "checkpoint \"nope/3\""},
  };
  for (const Case& c : cases) {
    pb::UploadCheckpointHeader h = Header("up", bytes);
    c.edit(h);
    const grpc::Status s = Upload(h, bytes, &out);
    EXPECT_NE(s.error_code(), grpc::StatusCode::OK) << c.field;
    EXPECT_THAT(s.error_message(), HasSubstr(c.field));
  }
  const grpc::Status s = Upload(Header("up", bytes), bytes, &out, 1, false);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("header"));
}

}  // namespace
}  // namespace proxflow::server::testing
