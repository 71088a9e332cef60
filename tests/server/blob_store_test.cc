// FileBlobStore: content addressing, ranges, verification, crash leftovers.
#include "server/storage/blob_store.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "core/base/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace proxflow::server {
namespace {

namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/proxflow-blob-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    auto store = CreateFileBlobStore(root_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string root_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, PutIsContentAddressedAndIdempotent) {
  const std::string bytes = "proximal flows";
  auto a = store_->Put(bytes);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->sha256, Sha256Hex(bytes));
  EXPECT_EQ(a->size_bytes, 14);
  auto b = store_->Put(bytes);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->sha256, a->sha256);
  EXPECT_THAT(*store_->List(), ::testing::ElementsAre(a->sha256));
  EXPECT_EQ(*store_->ReadVerified(a->sha256), bytes);
  EXPECT_EQ(*store_->Size(a->sha256), 14);
}

TEST_F(BlobStoreTest, RangesResumeAnywhere) {
  std::string bytes(3000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  const std::string key = store_->Put(bytes)->sha256;
  std::string joined;
  for (int64_t offset = 0; offset < 3000; offset += 1024)
    joined += *store_->ReadRange(key, offset, 1024);
  EXPECT_EQ(joined, bytes);
  EXPECT_EQ(store_->ReadRange(key, 2990, 1024)->size(), 10u);
  EXPECT_EQ(store_->ReadRange(key, 3000, 10)->size(), 0u);
  EXPECT_EQ(store_->ReadRange(key, 3001, 10).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(BlobStoreTest, CorruptionIsDataLossAndMissingIsNotFound) {
  const std::string key = store_->Put("weights")->sha256;
  {
    std::ofstream out(fs::path(root_) / key.substr(0, 2) / key,
                      std::ios::binary | std::ios::trunc);
    out << "weightz";
  }
  EXPECT_EQ(store_->ReadVerified(key).status().code(),
            absl::StatusCode::kDataLoss);
  ASSERT_TRUE(store_->Delete(key).ok());
  EXPECT_EQ(store_->ReadVerified(key).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete(key).ok());  // deleting twice is fine
  EXPECT_EQ(store_->Size("../../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(BlobStoreTest, UnverifiedOrAbandonedWritesPublishNothing) {
  {
    auto writer = *store_->NewWriter();
    ASSERT_TRUE(writer->Append("half a checkpoint").ok());
    auto bad = writer->Commit(std::string(64, 'a'), "header.sha256");
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("header.sha256"));
  }
  {
    auto writer = *store_->NewWriter();
    ASSERT_TRUE(writer->Append("abandoned").ok());
  }  // destroyed without Commit
  EXPECT_TRUE(store_->List()->empty());
  EXPECT_TRUE(fs::is_empty(fs::path(root_) / "tmp"));
  // A staging file left by a crash is removed on the next open.
  std::ofstream(fs::path(root_) / "tmp" / "blob-1.tmp") << "torn";
  ASSERT_TRUE(CreateFileBlobStore(root_).ok());
  EXPECT_TRUE(fs::is_empty(fs::path(root_) / "tmp"));
}

}  // namespace
}  // namespace proxflow::server
